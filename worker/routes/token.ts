import type { IssuedToken, Outcome, ReplacedGrant } from '../coordinator.js';
import { bodyProblemAnswer, readCappedBody } from '../http/body.js';
import { serializeHostCookie } from '../http/cookies.js';
import { json, SESSION_COOKIE_NAME } from '../http/responses.js';
import { log } from '../log.js';
import { mintedSession } from '../object-names.js';
import { newSessionId, SESSION_MAX_AGE, sessionOf } from '../session.js';
import { coordinator, kvKeyOf, type Credential } from '../token-cache.js';
import { limitedAnswer } from '../rate-limits.js';
import { mediatedRedirectUriOf, type LinkContext } from './link.js';

/** A token request is a code, a verifier and a redirect URI: a few hundred bytes. */
const MAX_TOKEN_BODY = 8 * 1024;

/** RFC 6749 §5.2 error answer, so the browser's tokengate reads it as an OAuthError. */
function oauthError(status: number, error: string, description: string): Response {
  return json({ error, error_description: description }, status);
}

/**
 * `POST /token/:vendor`, the token-mediating endpoint (draft-ietf-oauth-browser-based-apps §6.2).
 * The browser ran PKCE and checked state; this adds the client secret, keeps the refresh token in the
 * session's Durable Object, and answers only the access token. `grant_type=refresh_token` (with no
 * refresh token: the session cookie names the account) answers a fresh access token.
 */
export async function handleToken(request: Request, ctx: LinkContext, vendorName: string): Promise<Response> {
  const { env, config } = ctx;
  const vendor = config.vendors.get(vendorName);
  if (vendor === undefined || vendor.link === undefined) return oauthError(404, 'invalid_request', 'Account linking is not configured for this vendor');
  if (request.method !== 'POST') return oauthError(405, 'invalid_request', 'Use POST');
  // A DPoP vendor's tokens are bound to a key that never leaves the Worker (RFC 9449): a page could not use one.
  if (vendor.dpop) return oauthError(400, 'invalid_request', `${vendor.name}'s tokens are bound to the Worker's DPoP key; link this vendor with /link/${vendor.name}/start (the Worker calls it for the page)`);
  // A vendor configured BFF-only (`link.mode = "bff"`): no token of it ever goes to a page (row 18).
  if (vendor.link.mode === 'bff') return oauthError(400, 'invalid_request', `${vendor.name} links the BFF way only; link it with /link/${vendor.name}/start (the Worker calls it for the page)`);
  // Each call may cost a token request authenticated with the client secret (row 19).
  const limited = await limitedAnswer(env, 'flow', ctx.caller, vendor.name);
  if (limited !== undefined) return limited;
  // Only pages of the listed origins may exchange or refresh (browsers always send Origin on POST).
  const origin = request.headers.get('origin');
  if (origin === null || !config.allowedOrigins.includes(origin)) return oauthError(403, 'invalid_request', 'This origin may not use the token endpoint');
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return oauthError(400, 'invalid_request', 'Send application/x-www-form-urlencoded');
  // Bytes, capped while they stream, then decode: .text() on a form body makes workerd warn.
  const read = await readCappedBody(request, MAX_TOKEN_BODY);
  if (!read.ok) {
    const problem = bodyProblemAnswer(read.reason, MAX_TOKEN_BODY);
    return oauthError(problem.status, 'invalid_request', problem.status === 413 ? `Token request bodies are limited to ${MAX_TOKEN_BODY} bytes` : problem.message);
  }
  const form = new URLSearchParams(new TextDecoder().decode(read.bytes));
  const grant = form.get('grant_type');
  const existing = sessionOf(request);

  let session = existing;
  let outcome: Outcome<IssuedToken> & { replaced?: ReplacedGrant };
  if (grant === 'authorization_code') {
    const code = form.get('code');
    const codeVerifier = form.get('code_verifier');
    const redirectUri = form.get('redirect_uri');
    if (!code || !codeVerifier || redirectUri === null) return oauthError(400, 'invalid_request', 'code, code_verifier and redirect_uri are required');
    if (redirectUri !== mediatedRedirectUriOf(config)) return oauthError(400, 'invalid_grant', 'redirect_uri is not the configured one');
    session ??= mintedSession(newSessionId());
    const credential: Credential = { kind: 'session', vendor: vendor.name, session };
    outcome = await (await coordinator(env, credential)).exchangeCode(vendor.name, { code, codeVerifier, redirectUri });
  } else if (grant === 'refresh_token') {
    if (session === undefined) return oauthError(400, 'invalid_grant', 'No linked session in this browser');
    const credential: Credential = { kind: 'session', vendor: vendor.name, session };
    // Only a session linked the token-mediating way; a BFF link is refused before any vendor call (row 18).
    outcome = await (await coordinator(env, credential)).mediatedToken(vendor.name, await kvKeyOf(credential));
  } else {
    return oauthError(400, 'unsupported_grant_type', 'Only authorization_code and refresh_token are offered here');
  }
  log({ at: 'token', vendor: vendor.name, grant: grant ?? '', outcome: outcome.ok ? 'ok' : outcome.code, ...(outcome.replaced === undefined ? {} : { replaced: outcome.replaced }) });
  if (!outcome.ok) {
    if (outcome.code === 'ERR_LINKED_BFF') return oauthError(403, 'access_denied', outcome.message);
    const error = outcome.code === 'ERR_LINK_REQUIRED' || outcome.code === 'ERR_NOT_LINKED' || outcome.code === 'invalid_grant' ? 'invalid_grant' : outcome.code.startsWith('ERR_') ? 'server_error' : outcome.code;
    return oauthError(error === 'server_error' ? 502 : 400, error, outcome.message);
  }
  const token = outcome.value;
  const headers = new Headers();
  if (session !== existing) headers.append('set-cookie', serializeHostCookie(SESSION_COOKIE_NAME, session!, { sameSite: 'Strict', maxAge: SESSION_MAX_AGE }));
  return json(
    {
      access_token: token.accessToken,
      token_type: token.tokenType,
      ...(token.expiresAt === undefined ? {} : { expires_in: Math.max(0, Math.floor((token.expiresAt - Date.now()) / 1000)) }),
      ...(token.scope === undefined ? {} : { scope: token.scope.join(' ') }),
      // A re-link replaced the session's grant: whether the vendor revoked the old one (RFC 6749 §5.1 allows extra members).
      ...(outcome.replaced === undefined ? {} : { replaced_grant: outcome.replaced }),
    },
    200,
    headers,
  );
}
