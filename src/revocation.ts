import { ERR_INVALID_CONFIG, TokenGateError } from './errors.js';
import { postWithClientAuth } from './grants.js';
import type { Profile } from './profile.js';
import { errorFromAnswer } from './token-response.js';
import { readJson, readText } from './transport.js';
import type { RequestOptions } from './types.js';

/** RFC 7009 §2.1 / RFC 7662 §2.1 `token_type_hint`: the registered values, or the server's own. */
export type TokenTypeHint = 'access_token' | 'refresh_token' | (string & {});

export interface TokenRequestOptions extends RequestOptions {
  /** Which kind of token this is; helps the server find it (RFC 7009 §2.1). */
  hint?: TokenTypeHint;
}

/**
 * POSTs `token` (and its hint) with the profile's client authentication to one of its endpoints, and
 * turns a non-2xx answer into the usual typed, redacted error.
 */
export async function postToken(
  profile: Profile,
  endpoint: 'revocation' | 'introspection',
  token: string,
  options: TokenRequestOptions,
): Promise<{ response: Response; label: string }> {
  const url = profile[`${endpoint}Url`];
  if (url === undefined) throw new TokenGateError(ERR_INVALID_CONFIG, `The ${profile.name} profile has no ${endpoint} endpoint`);
  const params: Record<string, string> = { token, ...(options.hint === undefined ? {} : { token_type_hint: options.hint }) };
  const sent = await postWithClientAuth(profile, url, endpoint, params, options, 'form');
  const read = { label: sent.label, maxBytes: profile.maxResponseBytes, timeout: sent.timeout, signal: options.signal };
  if (!sent.response.ok) throw errorFromAnswer(profile, sent.response, await readJson(sent.response, read), sent.label, [...profile.secrets, ...sent.secrets]);
  return sent;
}

/**
 * Revokes a token at the server (RFC 7009): resolves once the server answered 200, which it also does
 * for a token it no longer knows (§2.2). Revoking a refresh token usually revokes its access tokens too.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export async function revokeToken(profile: Profile, token: string, options: TokenRequestOptions = {}): Promise<void> {
  const { response, label } = await postToken(profile, 'revocation', token, options);
  // The body means nothing (§2.2), but it is read, capped, so the connection is free for the next request.
  await readText(response, { label, maxBytes: profile.maxResponseBytes, timeout: options.timeout ?? profile.timeout, signal: options.signal });
}
