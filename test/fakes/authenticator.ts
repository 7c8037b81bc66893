// A WebAuthn authenticator in software, for the integration tests: it makes
// and uses P-256 passkeys the way a platform authenticator does (attestation
// "none", ES256), so the server's checks (challenge, origin, RP ID hash,
// signature, counter) run on real bytes. The browser tests use Chromium's
// virtual authenticator instead.

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 256) return [(major << 5) | 24, length];
  if (length < 65536) return [(major << 5) | 25, length >> 8, length & 0xff];
  return [(major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

/** The CBOR subset WebAuthn needs: integers, text, bytes, arrays and maps. */
function cbor(value: Cbor): number[] {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    return [...head(3, bytes.length), ...bytes];
  }
  if (value instanceof Uint8Array) return [...head(2, value.length), ...value];
  if (Array.isArray(value)) return [...head(4, value.length), ...value.flatMap(cbor)];
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return [...head(5, entries.length), ...entries.flatMap(([key, item]) => [...cbor(key), ...cbor(item)])];
}

export function base64url(bytes: Uint8Array | ArrayBuffer): string {
  const array = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (const byte of array) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** WebCrypto signs ECDSA as r||s; WebAuthn wants ASN.1 DER. */
function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    let value: Uint8Array = bytes.slice(start);
    if ((value[0] as number) & 0x80) value = concat(new Uint8Array([0]), value);
    return concat(new Uint8Array([0x02, value.length]), value);
  };
  const body = concat(integer(raw.slice(0, 32)), integer(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

/** A PublicKeyCredential as the browser library posts it: a platform passkey with this response. */
function publicKeyCredential(credentialId: Uint8Array, response: Record<string, unknown>): Record<string, unknown> {
  const id = base64url(credentialId);
  return {
    id,
    rawId: id,
    type: 'public-key',
    authenticatorAttachment: 'platform',
    clientExtensionResults: {},
    response,
  };
}

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_BACKUP_ELIGIBLE = 0x08;
const FLAG_BACKED_UP = 0x10;
const FLAG_ATTESTED = 0x40;

interface Options {
  origin: string;
  /** A synced passkey (a password manager's): backup eligible and backed up. */
  synced?: boolean;
  /** Whether the authenticator checked the user (PIN, biometrics). */
  userVerified?: boolean;
}

export interface SoftwarePasskey {
  credentialId: Uint8Array;
  userHandle: string;
  keys: CryptoKeyPair;
  counter: number;
}

/** One authenticator holding the passkeys it made. */
export function softwareAuthenticator(options: Options) {
  const passkeys: SoftwarePasskey[] = [];
  const flags = () =>
    FLAG_USER_PRESENT |
    (options.userVerified === false ? 0 : FLAG_USER_VERIFIED) |
    (options.synced ? FLAG_BACKUP_ELIGIBLE | FLAG_BACKED_UP : 0);

  function clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string) {
    return new TextEncoder().encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  return {
    passkeys,
    /** navigator.credentials.create(), answering the server's registration options. */
    async create(
      publicKey: { challenge: string; rp: { id: string }; user: { id: string } },
      origin = options.origin,
    ): Promise<Record<string, unknown>> {
      const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
        'sign',
        'verify',
      ])) as CryptoKeyPair;
      const jwk = (await crypto.subtle.exportKey('jwk', keys.publicKey)) as JsonWebKey;
      const credentialId = crypto.getRandomValues(new Uint8Array(16));
      const coseKey = new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, fromBase64url(jwk.x as string)],
        [-3, fromBase64url(jwk.y as string)],
      ]);
      const authData = concat(
        await sha256(new TextEncoder().encode(publicKey.rp.id)),
        new Uint8Array([flags() | FLAG_ATTESTED, 0, 0, 0, 0]),
        new Uint8Array(16), // AAGUID: none
        new Uint8Array([0, credentialId.length]),
        credentialId,
        new Uint8Array(cbor(coseKey)),
      );
      const attestationObject = new Uint8Array(cbor({ fmt: 'none', attStmt: {}, authData }));
      passkeys.push({ credentialId, userHandle: publicKey.user.id, keys, counter: 0 });
      return publicKeyCredential(credentialId, {
        clientDataJSON: base64url(clientData('webauthn.create', publicKey.challenge, origin)),
        attestationObject: base64url(attestationObject),
        transports: ['internal'],
      });
    },
    /** navigator.credentials.get() with the given passkey (the first by default). */
    async get(
      publicKey: { challenge: string; rpId: string },
      { origin = options.origin, passkey = passkeys[0] }: { origin?: string; passkey?: SoftwarePasskey } = {},
    ): Promise<Record<string, unknown>> {
      if (!passkey) throw new Error('this authenticator holds no passkey');
      passkey.counter++;
      const counter = passkey.counter;
      const authData = concat(
        await sha256(new TextEncoder().encode(publicKey.rpId)),
        new Uint8Array([
          flags(),
          (counter >>> 24) & 0xff,
          (counter >> 16) & 0xff,
          (counter >> 8) & 0xff,
          counter & 0xff,
        ]),
      );
      const data = clientData('webauthn.get', publicKey.challenge, origin);
      const signed = concat(authData, await sha256(data));
      const raw = new Uint8Array(
        await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, passkey.keys.privateKey, signed),
      );
      return publicKeyCredential(passkey.credentialId, {
        clientDataJSON: base64url(data),
        authenticatorData: base64url(authData),
        signature: base64url(derSignature(raw)),
        userHandle: passkey.userHandle,
      });
    },
  };
}
