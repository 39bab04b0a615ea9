import { postToEndpoint } from './grants.js';
import type { Profile } from './profile.js';
import type { RequestOptions } from './types.js';

/** RFC 7009 §2.1 / RFC 7662 §2.1 `token_type_hint`: the registered values, or the server's own. */
export type TokenTypeHint = 'access_token' | 'refresh_token' | (string & {});

export interface TokenRequestOptions extends RequestOptions {
  /** Which kind of token this is; helps the server find it (RFC 7009 §2.1). */
  hint?: TokenTypeHint;
}

/** The `token` and `token_type_hint` parameters of RFC 7009 §2.1 and RFC 7662 §2.1. */
export const tokenParams = (token: string, options: TokenRequestOptions): Record<string, string> =>
  options.hint === undefined ? { token } : { token, token_type_hint: options.hint };

/**
 * Revokes a token at the server (RFC 7009): resolves once the server answered 200, which it also does
 * for a token it no longer knows (§2.2). Revoking a refresh token usually revokes its access tokens too.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export async function revokeToken(profile: Profile, token: string, options: TokenRequestOptions = {}): Promise<void> {
  const { response } = await postToEndpoint(profile, 'revocation', tokenParams(token, options), options);
  // The body means nothing (§2.2): dropped, so an odd one cannot turn a done revocation into an error.
  await response.body?.cancel();
}
