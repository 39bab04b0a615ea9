import { DEV } from '#dev';
import { base64url, randomBytes, utf8 } from './encoding.js';
import { ERR_INVALID_VERIFIER, TokenGateError } from './errors.js';

/** A PKCE pair. `method` is always `S256`: tokengate never offers `plain` (RFC 9700 §2.1.1). */
export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** RFC 7636 §4.1: 43–128 characters from the unreserved set. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Makes a PKCE verifier from the platform CSPRNG and its S256 challenge. `length` (43–128, default 43)
 * sets the verifier length; 43 characters carry the 256 bits RFC 7636 §7.1 recommends.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
export async function createPkce(options: { length?: number } = {}): Promise<Pkce> {
  const length = options.length ?? 43;
  if (!Number.isInteger(length) || length < 43 || length > 128) {
    throw new TokenGateError(ERR_INVALID_VERIFIER, DEV ? 'A PKCE verifier must be 43 to 128 characters long' : 'length');
  }
  const verifier = base64url(randomBytes(Math.ceil((length * 3) / 4))).slice(0, length);
  // Valid by construction: straight to the digest, without computeChallenge's check and extra await.
  return { verifier, challenge: base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(verifier)))), method: 'S256' };
}

/**
 * The S256 code challenge of a verifier: `BASE64URL(SHA256(ASCII(verifier)))`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export async function computeChallenge(verifier: string): Promise<string> {
  if (!VERIFIER.test(verifier)) {
    throw new TokenGateError(ERR_INVALID_VERIFIER, DEV ? 'A PKCE verifier must be 43 to 128 characters of [A-Za-z0-9-._~]' : 'characters');
  }
  const digest = await crypto.subtle.digest('SHA-256', utf8.encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** A fresh `state` value: 256 bits from the CSPRNG, base64url. */
export function createState(): string {
  return base64url(randomBytes(32));
}
