import { base64url, randomBytes, utf8 } from './encoding.js';
import type { WebCryptoKey } from './types.js';

/** The JWS algorithms tokengate signs with (RFC 7518 §3.1), from the WebCrypto key's algorithm. */
export type JwsAlgorithm = 'ES256' | 'RS256' | 'HS256';

const ALGORITHMS: Readonly<Record<string, JwsAlgorithm>> = { ECDSA: 'ES256', 'RSASSA-PKCS1-v1_5': 'RS256', HMAC: 'HS256' };

/** The JWS `alg` of a WebCrypto signing key (P-256 ECDSA, RSASSA-PKCS1-v1_5 or HMAC, each over SHA-256). */
export function jwsAlgorithm(key: WebCryptoKey): JwsAlgorithm | undefined {
  return ALGORITHMS[key.algorithm.name];
}

const encode = (value: unknown): string => base64url(utf8.encode(JSON.stringify(value)));

/**
 * A compact JWS of `payload`, signed with `key` (RFC 7515 §7.1). WebCrypto's ECDSA signature is
 * already the `r || s` form JWS wants (RFC 7518 §3.4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-3.1
 */
export async function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: WebCryptoKey): Promise<string> {
  const input = `${encode({ alg: jwsAlgorithm(key), ...header })}.${encode(payload)}`;
  const signature = await crypto.subtle.sign({ name: key.algorithm.name, hash: 'SHA-256' }, key as CryptoKey, utf8.encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

/** A fresh JWT ID: 128 bits from the CSPRNG. */
export const jwtId = (): string => base64url(randomBytes(16));

/** Seconds since the epoch, as JWT's NumericDate (RFC 7519 §2). */
export const epochSeconds = (now: () => number = Date.now): number => Math.floor(now() / 1000);
