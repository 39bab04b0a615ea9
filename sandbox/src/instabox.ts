import { requireBearer } from './bearer.js';
import { param, readBody } from './body.js';
import { timingSafeEqual } from './crypto.js';
import { json } from './http.js';
import { fakeJwt, randomToken } from './random.js';
import type { Route, RouteContext } from './route.js';
import { expiresAt } from './state.js';

/**
 * Instabox's error body. Instabox doc 000 names only the statuses and their meaning (401 "Invalid
 * credentials", 400 "Malformed request"); the shape mirrors its `{"status":"OK"}` success body.
 */
function error(status: number, message: string): Response {
  return json({ status: 'ERROR', message }, status);
}

/**
 * `POST /instabox/v1/token`: client_credentials, form body only (Instabox doc 000). Answers
 * `{"status":"OK","token":...}` with no expiry field; the token is valid 24 h and, as the doc warns,
 * longer than 255 characters.
 */
export async function instaboxToken({ request, state }: RouteContext): Promise<Response> {
  // Instabox doc 000: 400 unless Content-Type is application/x-www-form-urlencoded and grant_type=client_credentials.
  const body = await readBody(request, ['form']);
  if (!body.ok) return error(400, 'Malformed request');
  const clientId = param(body.params, 'client_id');
  const clientSecret = param(body.params, 'client_secret');
  if (param(body.params, 'grant_type') !== 'client_credentials' || clientId === undefined || clientSecret === undefined) {
    return error(400, 'Malformed request');
  }
  const expected = state.config.credentials.instabox;
  if (!timingSafeEqual(clientId, expected.clientId) || !timingSafeEqual(clientSecret, expected.clientSecret)) {
    return error(401, 'Invalid credentials');
  }
  const value = fakeJwt({ iss: 'https://oauth.instabox.se', aud: 'webshopintegrations', scope: 'orders' }, state.config.now());
  state.tokens.add(value, {
    vendor: 'instabox',
    kind: 'access',
    subject: 'app',
    clientId,
    expiresAt: expiresAt(state, state.config.lifetimes.instabox),
  });
  return json({ status: 'OK', token: value });
}

const ORDERS = [
  { id: 'IBX-100001', status: 'CREATED', parcels: 1, recipient: { name: 'Ada Lovelace', city: 'Stockholm' } },
  { id: 'IBX-100002', status: 'DELIVERED', parcels: 2, recipient: { name: 'Alan Turing', city: 'Göteborg' } },
];

/** `GET|POST /instabox/v2/orders` (Instabox doc 000's "Using the Token" example): fake orders behind the bearer. */
async function orders(context: RouteContext): Promise<Response> {
  const auth = requireBearer(context, 'instabox', { status: 'ERROR', message: 'Unauthorized' });
  if (!auth.ok) return auth.response;
  if (context.request.method === 'POST') {
    const created = { id: `IBX-${randomToken(6)}`, status: 'CREATED', parcels: 1 };
    return json({ status: 'OK', orders: [created] });
  }
  return json({ status: 'OK', orders: ORDERS });
}

/** Instabox: the token endpoint and the orders call of doc 000. */
export const instaboxRoutes: readonly Route[] = [
  { vendor: 'instabox', kind: 'token', pattern: /^\/instabox\/v1\/token$/, methods: ['POST'], handle: instaboxToken },
  { vendor: 'instabox', kind: 'api', pattern: /^\/instabox\/v2\/orders$/, methods: ['GET', 'POST'], handle: orders },
];
