import { requireBearer } from './bearer.js';
import { param, readBody } from './body.js';
import { timingSafeEqual } from './crypto.js';
import { json } from './http.js';
import { oauthError } from './oauth-error.js';
import { randomToken } from './random.js';
import type { Route, RouteContext } from './route.js';
import { expiresAt } from './state.js';

/** instellix doc 002: "Constant polling of new tokens within a 5s window can additionally result in a 401". */
export const INSTELLIX_MIN_INTERVAL_MS = 5_000;

/**
 * The client id and secret of `Authorization: Basic base64(client_id:client_secret)`, taken PLAIN as
 * instellix doc 002 shows it: no form-decoding of either part (unlike RFC 6749 §2.3.1).
 */
function basicCredentials(header: string | null): { clientId: string; clientSecret: string } | undefined {
  const encoded = /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header?.trim() ?? '')?.[1];
  if (encoded === undefined) return undefined;
  try {
    const bytes = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    const colon = text.indexOf(':');
    if (colon < 0) return undefined;
    return { clientId: text.slice(0, colon), clientSecret: text.slice(colon + 1) };
  } catch {
    return undefined;
  }
}

/**
 * `POST /instellix/{realm}/oauth2/token` (instellix doc 002): client_credentials, the client authenticated
 * by HTTP Basic only, `grant_type` in a form body (the doc's curl sends `--form`, i.e. multipart; urlencoded
 * is taken too). Answers an opaque token with lowercase `"token_type":"bearer"`. A second token request of
 * the same client within 5 s of its last granted one is refused with 401 even with correct credentials.
 */
async function token({ request, params, state }: RouteContext): Promise<Response> {
  // The strict reading of the 5 s rule: the window is measured between request ARRIVALS, taken here,
  // before anything else (a `slow` fault delays the arrival itself, as a cold connection would).
  const arrivedAt = state.config.now();
  const expected = state.config.credentials.instellix;
  if (params['realm'] !== expected.realm) return json({ error: 'not_found', error_description: 'Unknown realm' }, 404);
  const credentials = basicCredentials(request.headers.get('authorization'));
  if (
    credentials === undefined ||
    !timingSafeEqual(credentials.clientId, expected.clientId) ||
    !timingSafeEqual(credentials.clientSecret, expected.clientSecret)
  ) {
    return oauthError(401, 'unauthorized', 'Bad credentials');
  }
  const body = await readBody(request, ['form', 'multipart']);
  if (!body.ok) return oauthError(400, 'invalid_request', 'The body must be a form with grant_type=client_credentials');
  const grantType = param(body.params, 'grant_type');
  if (grantType === undefined) return oauthError(400, 'invalid_request', 'grant_type is required');
  if (grantType !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported');

  // The 5 s window runs from the arrival of the client's last GRANTED request: refused polls do not restart it.
  const key = `${expected.realm}\n${credentials.clientId}`;
  const last = state.instellixLastIssued.get(key);
  if (last !== undefined && arrivedAt - last < INSTELLIX_MIN_INTERVAL_MS) {
    state.stats.refusedPolls += 1;
    return oauthError(401, 'unauthorized', 'Too many token requests');
  }
  state.instellixLastIssued.set(key, arrivedAt);

  const lifetime = state.config.lifetimes.instellix;
  const value = randomToken(32);
  state.tokens.add(value, { vendor: 'instellix', kind: 'access', subject: 'app', clientId: credentials.clientId, expiresAt: expiresAt(state, lifetime) });
  return json({ access_token: value, token_type: 'bearer', expires_in: lifetime });
}

const SHIPMENTS = [
  { id: 'SHP-0001', status: 'IN_TRANSIT', carrier: 'DHL', trackingNumber: '00340434161094042557' },
  { id: 'SHP-0002', status: 'DELIVERED', carrier: 'UPS', trackingNumber: '1Z999AA10123456784' },
];

/** A protected instellix resource answering `body` behind the bearer. */
function resource(body: unknown): Route['handle'] {
  return async (context) => {
    const auth = requireBearer(context, 'instellix', { error: 'invalid_token', error_description: 'The access token is invalid or expired' });
    return auth.ok ? json(body) : auth.response;
  };
}

/** instellix: the realm's token endpoint (doc 002) and protected resources. */
export const instellixRoutes: readonly Route[] = [
  { vendor: 'instellix', kind: 'token', pattern: /^\/instellix\/(?<realm>[^/]+)\/oauth2\/token$/, methods: ['POST'], handle: token },
  { vendor: 'instellix', kind: 'api', pattern: /^\/instellix\/api\/v1\/shipments$/, methods: ['GET'], handle: resource({ items: SHIPMENTS }) },
  // instellix doc 002 calls `/some-resource`: any other path under /instellix/ is a protected resource too.
  { vendor: 'instellix', kind: 'api', pattern: /^\/instellix\/.+$/, methods: ['GET'], handle: resource({ ok: true }) },
];
