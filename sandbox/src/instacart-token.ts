import { param, readBody, type Params } from './body.js';
import { redeemCode } from './code-exchange.js';
import { timingSafeEqual } from './crypto.js';
import { json } from './http.js';
import { oauthError } from './oauth-error.js';
import { randomToken } from './random.js';
import type { RouteContext } from './route.js';
import { expiresAt, type SandboxState } from './state.js';

/** The scope an app token gets when the client asks for none. */
const DEFAULT_APP_SCOPE = 'connect:fulfillment';

/** A linked user's token pair, from a code or a refresh; `family` ties it to the code it came from. */
function issueUserTokens(state: SandboxState, clientId: string, userId: number, scope: string, family: string): Response {
  const lifetime = state.config.lifetimes.instacart;
  const accessToken = randomToken(32);
  const refreshToken = randomToken(32);
  const common = { vendor: 'instacart', subject: 'user', clientId, userId, scope, family } as const;
  state.tokens.add(accessToken, { ...common, kind: 'access', expiresAt: expiresAt(state, lifetime) });
  state.tokens.add(refreshToken, { ...common, kind: 'refresh', expiresAt: undefined });
  return json({ access_token: accessToken, token_type: 'Bearer', expires_in: lifetime, refresh_token: refreshToken, scope });
}

function clientCredentials(state: SandboxState, clientId: string, params: Params): Response {
  const lifetime = state.config.lifetimes.instacart;
  const scope = param(params, 'scope') ?? DEFAULT_APP_SCOPE;
  const value = randomToken(32);
  state.tokens.add(value, { vendor: 'instacart', kind: 'access', subject: 'app', clientId, scope, expiresAt: expiresAt(state, lifetime) });
  return json({ access_token: value, token_type: 'Bearer', expires_in: lifetime, scope });
}

/** The code exchange: the shared checks (code-exchange.ts), then a user token with a refresh token. */
async function authorizationCode(state: SandboxState, clientId: string, params: Params): Promise<Response> {
  const grant = await redeemCode(state, state.instacartCodes, clientId, params);
  if (grant instanceof Response) return grant;
  return issueUserTokens(state, clientId, grant.userId, grant.scope, grant.family);
}

/** Refresh with rotation: the refresh token used is dead afterwards; the new pair keeps the code's family. */
function refreshToken(state: SandboxState, clientId: string, params: Params): Response {
  const presented = param(params, 'refresh_token');
  if (presented === undefined) return oauthError(400, 'invalid_request', 'refresh_token is required');
  const grant = state.tokens.find(presented, 'instacart', 'refresh', state.config.now());
  if (grant === undefined || grant.clientId !== clientId || grant.userId === undefined || grant.family === undefined) {
    return oauthError(400, 'invalid_grant', 'The refresh token is invalid or revoked');
  }
  state.tokens.remove(presented);
  return issueUserTokens(state, clientId, grant.userId, grant.scope ?? '', grant.family);
}

/**
 * `POST /instacart/v2/oauth/token`: client_credentials (app token), authorization_code with PKCE (user
 * token + refresh token) and refresh_token (rotating). Client id and secret in the body; JSON or form.
 * Doc 004 covers only the sandbox authorize call, so errors here are RFC 6749's shape (Instacart's OAuth
 * server answers token errors that way; its `{"error":{message,code}}` shape is for the API).
 */
export async function instacartToken({ request, state }: RouteContext): Promise<Response> {
  const body = await readBody(request, ['json', 'form']);
  if (!body.ok) return oauthError(400, 'invalid_request', 'The body must be JSON or application/x-www-form-urlencoded');
  const grantType = param(body.params, 'grant_type');
  if (grantType === undefined) return oauthError(400, 'invalid_request', 'grant_type is required');
  const clientId = param(body.params, 'client_id');
  const clientSecret = param(body.params, 'client_secret');
  const expected = state.config.credentials.instacart;
  if (
    clientId === undefined ||
    clientSecret === undefined ||
    !timingSafeEqual(clientId, expected.clientId) ||
    !timingSafeEqual(clientSecret, expected.clientSecret)
  ) {
    return oauthError(401, 'invalid_client', 'Client authentication failed');
  }
  switch (grantType) {
    case 'client_credentials':
      return clientCredentials(state, clientId, body.params);
    case 'authorization_code':
      return authorizationCode(state, clientId, body.params);
    case 'refresh_token':
      return refreshToken(state, clientId, body.params);
    default:
      return oauthError(400, 'unsupported_grant_type', 'The grant type is not supported');
  }
}
