import { requireBearer } from './bearer.js';
import { param, readBody, type Params } from './body.js';
import { timingSafeEqual } from './crypto.js';
import { json } from './http.js';
import { fakeJwt, randomToken } from './random.js';
import type { Route, RouteContext } from './route.js';
import { expiresAt, type SandboxState } from './state.js';

/** Shopware doc 003: the password and refresh grants use the admin panel's client id. */
const ADMIN_CLIENT_ID = 'administration';
/** Shopware's default refresh-token lifetime (one week); the doc states none. */
const REFRESH_LIFETIME_SECONDS = 7 * 24 * 3600;
/** The admin scopes Shopware knows; doc 003 sends `"scopes": "write"`. */
const ADMIN_SCOPES = new Set(['write', 'admin', 'user-verified']);
const STATUS_TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' };

/**
 * Shopware's JSON:API error body `{"errors":[{"code","status","title","detail"}]}`, status as a string and
 * title the HTTP reason phrase, as Shopware renders its exceptions. Doc 003 shows no token errors; live
 * Shopware puts League OAuth2's numeric code in `code`. The sandbox puts League's error TYPE there instead
 * (`invalid_client`, `invalid_grant`, ...), the RFC 6749 names a profile can map without a number table:
 * - bad integration id/secret, or a client other than `administration` on the user grants: 401 invalid_client;
 * - wrong username or password: 400 invalid_grant "The user credentials were incorrect." (League 8);
 * - a refresh token that is unknown, already rotated, expired or revoked: 400 invalid_grant;
 * - not JSON, or a missing field: 400 invalid_request; an unknown grant: 400 unsupported_grant_type.
 */
function error(status: number, code: string, detail: string): Response {
  return json({ errors: [{ code, status: String(status), title: STATUS_TITLES[status] ?? 'Error', detail }] }, status);
}

/** Issues an access token (and, for a user, a refresh token linked to it) and answers doc 003's shape. */
function issue(state: SandboxState, clientId: string, subject: 'app' | 'user'): Response {
  const lifetime = state.config.lifetimes.shopware;
  const accessToken = fakeJwt({ iss: 'shopware-sandbox', aud: clientId, scopes: ['write'] }, state.config.now());
  state.tokens.add(accessToken, { vendor: 'shopware', kind: 'access', subject, clientId, expiresAt: expiresAt(state, lifetime) });
  if (subject === 'app') return json({ token_type: 'Bearer', expires_in: lifetime, access_token: accessToken });
  const refreshToken = randomToken(128);
  state.tokens.add(refreshToken, {
    vendor: 'shopware',
    kind: 'refresh',
    subject,
    clientId,
    expiresAt: expiresAt(state, REFRESH_LIFETIME_SECONDS),
    accessToken,
  });
  return json({ token_type: 'Bearer', expires_in: lifetime, access_token: accessToken, refresh_token: refreshToken });
}

/** Shopware doc 003, "Integration": client_credentials with the integration's id and secret; no refresh token. */
function clientCredentials(state: SandboxState, params: Params): Response {
  const clientId = param(params, 'client_id');
  const clientSecret = param(params, 'client_secret');
  if (clientId === undefined || clientSecret === undefined) return error(400, 'invalid_request', 'client_id and client_secret are required');
  const expected = state.config.credentials.shopware;
  if (!timingSafeEqual(clientId, expected.clientId) || !timingSafeEqual(clientSecret, expected.clientSecret)) {
    return error(401, 'invalid_client', 'Client authentication failed');
  }
  return issue(state, clientId, 'app');
}

/** Shopware doc 003, "Username and Password": client_id `administration`, `scopes: "write"`, username, password. */
function password(state: SandboxState, params: Params): Response {
  const clientId = param(params, 'client_id');
  const username = param(params, 'username');
  const pass = param(params, 'password');
  if (clientId === undefined || username === undefined || pass === undefined) {
    return error(400, 'invalid_request', 'client_id, username and password are required');
  }
  if (clientId !== ADMIN_CLIENT_ID) return error(401, 'invalid_client', 'Client authentication failed');
  const scopes = params.get('scopes');
  if (scopes !== undefined && (typeof scopes !== 'string' || !scopes.split(' ').every((scope) => ADMIN_SCOPES.has(scope)))) {
    return error(400, 'invalid_scope', 'The requested scope is invalid, unknown, or malformed');
  }
  const expected = state.config.credentials.shopware;
  // Both compared, always, so a wrong username and a wrong password take the same path.
  const userOk = timingSafeEqual(username, expected.username);
  const passwordOk = timingSafeEqual(pass, expected.password);
  if (!userOk || !passwordOk) return error(400, 'invalid_grant', 'The user credentials were incorrect.');
  return issue(state, clientId, 'user');
}

/**
 * Shopware doc 003, "Refresh Token": rotates. The old refresh token dies and so does the access token
 * issued with it, as League OAuth2 (Shopware's server) revokes both on refresh.
 */
function refresh(state: SandboxState, params: Params): Response {
  const clientId = param(params, 'client_id');
  const refreshToken = param(params, 'refresh_token');
  if (clientId === undefined || refreshToken === undefined) return error(400, 'invalid_request', 'client_id and refresh_token are required');
  if (clientId !== ADMIN_CLIENT_ID) return error(401, 'invalid_client', 'Client authentication failed');
  const grant = state.tokens.find(refreshToken, 'shopware', 'refresh', state.config.now());
  if (grant === undefined || grant.clientId !== clientId) return error(400, 'invalid_grant', 'The refresh token is invalid.');
  state.tokens.remove(refreshToken);
  if (grant.accessToken !== undefined) state.tokens.remove(grant.accessToken);
  return issue(state, clientId, 'user');
}

/** `POST /shopware/api/oauth/token`: a JSON body only (Shopware doc 003 shows nothing else). */
async function token({ request, state }: RouteContext): Promise<Response> {
  const body = await readBody(request, ['json']);
  if (!body.ok) return error(400, 'invalid_request', 'The request body must be JSON with Content-Type: application/json');
  switch (param(body.params, 'grant_type')) {
    case 'client_credentials':
      return clientCredentials(state, body.params);
    case 'password':
      return password(state, body.params);
    case 'refresh_token':
      return refresh(state, body.params);
    case undefined:
      return error(400, 'invalid_request', 'grant_type is required');
    default:
      return error(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
  }
}

/** `GET /shopware/api/v3/product/{id}` (Shopware doc 003's example call): a product for any 32-hex id. */
async function product(context: RouteContext): Promise<Response> {
  // What Shopware answers a missing or dead token (League's access_denied, code 9).
  const auth = requireBearer(context, 'shopware', {
    errors: [{ code: '9', status: '401', title: 'Unauthorized', detail: 'The resource owner or authorization server denied the request.' }],
  });
  if (!auth.ok) return auth.response;
  const id = context.params['id'] ?? '';
  if (!/^[0-9a-f]{32}$/.test(id)) return error(400, 'FRAMEWORK__INVALID_UUID', 'The product id is not a valid UUID');
  return json({
    data: {
      id,
      type: 'product',
      attributes: { productNumber: 'SW10001', name: 'Sandbox apple', stock: 42, active: true, price: [{ currencyId: 'b7d2554b0ce847cd82f3ac9bd1c0dfca', gross: 1.99, net: 1.67, linked: true }] },
    },
  });
}

/** Shopware Admin API: the token endpoint (doc 003, three grants) and the product call. */
export const shopwareRoutes: readonly Route[] = [
  { vendor: 'shopware', kind: 'token', pattern: /^\/shopware\/api\/oauth\/token$/, methods: ['POST'], handle: token },
  { vendor: 'shopware', kind: 'api', pattern: /^\/shopware\/api\/v3\/product\/(?<id>[^/]+)$/, methods: ['GET'], handle: product },
];
