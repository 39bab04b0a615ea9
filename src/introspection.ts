import { DEV } from '#dev';
import { ERR_INVALID_RESPONSE, TokenGateError } from './errors.js';
import { postToEndpoint } from './grants.js';
import { tokenParams, type TokenRequestOptions } from './revocation.js';
import { expectJson } from './token-response.js';
import { readJson } from './transport.js';
import type { Profile } from './profile.js';

/** An RFC 7662 §2.2 introspection answer: `active`, and for an active token whatever the server adds. */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  jti?: string;
  [claim: string]: unknown;
}

/**
 * Asks the server whether a token is active and what it grants (RFC 7662). An inactive, revoked or
 * unknown token answers `{ active: false }`; only a broken answer is an error.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 */
export async function introspectToken(profile: Profile, token: string, options: TokenRequestOptions = {}): Promise<IntrospectionResponse> {
  const { response, label } = await postToEndpoint(profile, 'introspection', tokenParams(token, options), options);
  const body = await readJson(response, { label, maxBytes: profile.maxResponseBytes, timeout: options.timeout ?? profile.timeout, signal: options.signal });
  const value = expectJson(body, response.status, label) as IntrospectionResponse | null;
  if (typeof value !== 'object' || value === null || typeof value.active !== 'boolean') {
    throw new TokenGateError(ERR_INVALID_RESPONSE, DEV ? `The ${label} answer has a missing or invalid "active"` : `${label} "active"`, { status: response.status });
  }
  // RFC 7662 §2.2: for an inactive token the server should say nothing more; nothing more is passed on.
  return value.active ? value : { active: false };
}
