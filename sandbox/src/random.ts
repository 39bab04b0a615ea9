import { base64url } from './crypto.js';

/** An opaque token: `bytes` bytes from the platform CSPRNG, base64url. Never derived from any secret. */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function encodeJson(value: unknown): string {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

/**
 * A JWT-looking token (RS256 header, random `jti`, random 2048-bit-sized "signature"). Nothing checks the
 * signature: it only has the size and shape of the vendors' real tokens, which is what clients must store.
 */
export function fakeJwt(claims: Record<string, unknown>, issuedAtMs: number): string {
  const header = encodeJson({ alg: 'RS256', typ: 'JWT', kid: 'sandbox' });
  const payload = encodeJson({ ...claims, iat: Math.floor(issuedAtMs / 1000), jti: randomToken(16) });
  return `${header}.${payload}.${randomToken(256)}`;
}
