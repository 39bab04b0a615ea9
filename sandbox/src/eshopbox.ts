import { requireBearer } from './bearer.js';
import { param, readBody } from './body.js';
import { timingSafeEqual } from './crypto.js';
import { json } from './http.js';
import { oauthError } from './oauth-error.js';
import { randomToken } from './random.js';
import type { Route, RouteContext } from './route.js';
import { expiresAt } from './state.js';

/** Eshopbox doc 001: the granted scopes come back comma-separated, "scope=openid,profile". */
const SCOPE = 'openid,profile';

/**
 * `POST /eshopbox/oauth/token`: the refresh_token grant with client_id and client_secret in the body
 * (Eshopbox doc 001). The refresh token is the app's long-lived one and is NOT rotated: the answer has
 * no refresh_token. Errors use RFC 6749's shape, since the doc names none of its own.
 */
async function token({ request, state }: RouteContext): Promise<Response> {
  // Eshopbox doc 001 says only "in the request body"; form and JSON are both taken, as Auth0-style servers do.
  const body = await readBody(request, ['form', 'json']);
  if (!body.ok) return oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded or JSON');
  const grantType = param(body.params, 'grant_type');
  if (grantType === undefined) return oauthError(400, 'invalid_request', 'grant_type is required');
  if (grantType !== 'refresh_token') return oauthError(400, 'unsupported_grant_type', 'Only grant_type=refresh_token is supported');
  const clientId = param(body.params, 'client_id');
  const clientSecret = param(body.params, 'client_secret');
  const refreshToken = param(body.params, 'refresh_token');
  if (clientId === undefined || clientSecret === undefined || refreshToken === undefined) {
    return oauthError(400, 'invalid_request', 'client_id, client_secret and refresh_token are required');
  }
  const expected = state.config.credentials.eshopbox;
  if (!timingSafeEqual(clientId, expected.clientId) || !timingSafeEqual(clientSecret, expected.clientSecret)) {
    return oauthError(401, 'invalid_client', 'Client authentication failed');
  }
  const grant = state.tokens.find(refreshToken, 'eshopbox', 'refresh', state.config.now());
  if (grant === undefined || grant.clientId !== clientId) {
    return oauthError(400, 'invalid_grant', 'The refresh token is invalid or revoked');
  }
  const lifetime = state.config.lifetimes.eshopbox;
  const value = randomToken(48);
  state.tokens.add(value, { vendor: 'eshopbox', kind: 'access', subject: 'app', clientId, expiresAt: expiresAt(state, lifetime), scope: SCOPE });
  return json({ access_token: value, scope: SCOPE, expires_in: lifetime, token_type: 'Bearer' });
}

const ORDERS = [
  { orderId: 'ESB-5001', channelOrderId: 'SHOP-1001', status: 'PENDING', items: [{ sku: 'TSHIRT-M', quantity: 2 }] },
  { orderId: 'ESB-5002', channelOrderId: 'SHOP-1002', status: 'SHIPPED', items: [{ sku: 'MUG-01', quantity: 1 }] },
];

/** `GET /eshopbox/api/v1/orders`: fake orders behind the bearer. */
async function orders(context: RouteContext): Promise<Response> {
  const auth = requireBearer(context, 'eshopbox', { error: 'invalid_token', error_description: 'The access token is invalid or expired' });
  if (!auth.ok) return auth.response;
  return json({ data: ORDERS, total: ORDERS.length });
}

/** Eshopbox: the token endpoint (doc 001) and one protected call. */
export const eshopboxRoutes: readonly Route[] = [
  { vendor: 'eshopbox', kind: 'token', pattern: /^\/eshopbox\/oauth\/token$/, methods: ['POST'], handle: token },
  { vendor: 'eshopbox', kind: 'api', pattern: /^\/eshopbox\/api\/v1\/orders$/, methods: ['GET'], handle: orders },
];
