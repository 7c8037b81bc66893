import { base64url } from 'jose';

// SHA-256 and random tokens in the encodings we store and send. Web Crypto
// only, so it runs the same in workerd and in Node.

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

export async function sha256Base64url(text: string): Promise<string> {
  return base64url.encode(await sha256(text));
}

export async function sha256Hex(text: string): Promise<string> {
  return [...(await sha256(text))].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** `bytes` random bytes, base64url: 32 bytes make an unguessable 43-character token. */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}
