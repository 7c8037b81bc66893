// RFC 6238 TOTP codes computed from an otpauth:// URI's secret with WebCrypto,
// as an authenticator app would: for tests in workerd and in Node alike.

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/=+$/, '').toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(bytes);
}

/** The parameters of an otpauth://totp/ URI. */
export function parseTotpUri(uri: string) {
  const url = new URL(uri);
  if (url.protocol !== 'otpauth:' || url.host !== 'totp') throw new Error(`not a TOTP URI: ${uri}`);
  const secret = url.searchParams.get('secret');
  if (!secret) throw new Error('no secret in the TOTP URI');
  return {
    secret,
    issuer: url.searchParams.get('issuer'),
    label: decodeURIComponent(url.pathname.slice(1)),
    digits: Number(url.searchParams.get('digits') ?? 6),
    period: Number(url.searchParams.get('period') ?? 30),
    algorithm: (url.searchParams.get('algorithm') ?? 'SHA1').toUpperCase(),
  };
}

/** The code an authenticator app shows for this URI at `when` (milliseconds). */
export async function totpCode(uri: string, when = Date.now()): Promise<string> {
  const { secret, digits, period, algorithm } = parseTotpUri(uri);
  const hash = algorithm === 'SHA1' ? 'SHA-1' : algorithm.replace('SHA', 'SHA-');
  const key = await crypto.subtle.importKey('raw', base32Decode(secret), { name: 'HMAC', hash }, false, ['sign']);
  const counter = Math.floor(when / 1000 / period);
  const message = new DataView(new ArrayBuffer(8));
  message.setUint32(0, Math.floor(counter / 2 ** 32));
  message.setUint32(4, counter >>> 0);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, message.buffer));
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary =
    (((mac[offset] as number) & 0x7f) << 24) |
    ((mac[offset + 1] as number) << 16) |
    ((mac[offset + 2] as number) << 8) |
    (mac[offset + 3] as number);
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** A code that is surely wrong now: not this step's, nor its neighbours'. */
export async function wrongTotpCode(uri: string): Promise<string> {
  const near = await Promise.all(
    [-60_000, -30_000, 0, 30_000, 60_000].map((shift) => totpCode(uri, Date.now() + shift)),
  );
  for (let candidate = 0; ; candidate++) {
    const code = String(candidate).padStart(6, '0');
    if (!near.includes(code)) return code;
  }
}
