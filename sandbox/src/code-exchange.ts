import { param, type Params } from './body.js';
import { timingSafeEqual, verifiesS256 } from './crypto.js';
import { oauthError } from './oauth-error.js';
import type { SandboxState } from './state.js';

/** What both the Instacart and the standard server remember about an authorization code. */
export interface IssuedCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
  /** Shared by every token issued from this code. */
  readonly family: string;
  /** Set at the first exchange attempt: a code is presented once. */
  used: boolean;
}

/**
 * The code exchange checks (RFC 6749 §4.1.3 + RFC 7636 §4.6): the code, or the error answer to send.
 * A code is presented once: the first attempt consumes it whatever its outcome, and a second one is
 * refused and revokes every token issued from it (RFC 6749 §4.1.2). Codes stay bound to their client,
 * redirect_uri and S256 challenge.
 */
export async function redeemCode<C extends IssuedCode>(state: SandboxState, codes: Map<string, C>, clientId: string, params: Params): Promise<C | Response> {
  const code = param(params, 'code');
  const verifier = param(params, 'code_verifier');
  const redirectUri = param(params, 'redirect_uri');
  if (code === undefined || verifier === undefined || redirectUri === undefined) {
    return oauthError(400, 'invalid_request', 'code, code_verifier and redirect_uri are required');
  }
  const grant = codes.get(code);
  const refused = (): Response => oauthError(400, 'invalid_grant', 'The authorization code is invalid, expired or already used');
  if (grant === undefined) return refused();
  if (grant.used) {
    state.tokens.revokeFamily(grant.family);
    return refused();
  }
  grant.used = true;
  if (state.config.now() >= grant.expiresAt) return refused();
  if (!timingSafeEqual(grant.clientId, clientId) || grant.redirectUri !== redirectUri) return refused();
  if (!(await verifiesS256(verifier, grant.codeChallenge))) return refused();
  return grant;
}
