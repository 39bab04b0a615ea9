/**
 * A generic, standards-only OAuth 2.0 authorization server, so the demo links an account with a real
 * browser redirect and a consent page. No vendor dialect: RFC 6749 (code + refresh grants, §5.2 errors),
 * RFC 7636 (PKCE, S256 only), RFC 8414 (metadata), RFC 9207 (`iss` on every authorization response),
 * RFC 6750 (the protected `/api/me`), RFC 7009 (`/revoke`), RFC 7662 (`/introspect`), and RFC 9700 (exact redirect URIs, one-time codes, refresh-token
 * rotation with replay detection, 303 after the consent POST).
 *
 * The issuer is `<origin of the request>/oauth2` (`http://127.0.0.1:8788/oauth2` under `npm start`), and
 * its metadata is where RFC 8414 §3.1 puts it for an issuer with a path:
 * `/.well-known/oauth-authorization-server/oauth2` (also at `/oauth2/.well-known/…`, as some clients ask).
 *
 * @module
 */
import { requireBearer } from './bearer.js';
import { param, readBody, type Params } from './body.js';
import { redeemCode } from './code-exchange.js';
import { timingSafeEqual } from './crypto.js';
import { json, raw } from './http.js';
import { randomToken } from './random.js';
import type { Route, RouteContext } from './route.js';
import { expiresAt, type SandboxState } from './state.js';
import type { TokenRecord } from './tokens.js';
import { OAUTH2_SERVER } from './types.js';

/** Where the server lives on the sandbox's origin; the issuer is the request origin plus this. */
const ISSUER_PATH = '/oauth2';
/** Access tokens live an hour. */
export const OAUTH2_ACCESS_LIFETIME = 3600;
/** Codes are short-lived (RFC 6749 §4.1.2 recommends at most 10 minutes). */
export const OAUTH2_CODE_LIFETIME_MS = 60_000;
/** The scopes it knows, with the words the consent page shows for each. */
const SCOPES: Readonly<Record<string, string>> = { 'orders:read': 'Read your orders', profile: 'See your name' };
/** What a client gets when it asks for no scope (RFC 6749 §3.3 lets the server pick a default). */
const DEFAULT_SCOPE = 'orders:read';
/** An S256 challenge is the base64url of a SHA-256 digest: 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** The one test user every consent signs in as. */
const SHOPPER = { sub: 'sandbox-shopper-1001', name: 'Sandbox Shopper' } as const;
const ORDERS = [
  { id: 'SO-1001', placedAt: '2026-11-02T10:14:00Z', status: 'delivered', total: { amount: '42.90', currency: 'EUR' }, items: 3 },
  { id: 'SO-1002', placedAt: '2026-11-19T16:40:00Z', status: 'shipped', total: { amount: '18.50', currency: 'EUR' }, items: 1 },
];

/** The RFC 6749 error codes this server answers. */
type ErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied';

/** A registered client. */
interface Client {
  readonly id: string;
  /** undefined: a public client (token endpoint auth `none`). */
  readonly secret: string | undefined;
  readonly redirectUris: readonly string[];
}

function clients(state: SandboxState): readonly Client[] {
  const { clientId, clientSecret, publicClientId, redirectUris } = state.config.credentials.oauth2;
  return [
    { id: clientId, secret: clientSecret, redirectUris },
    { id: publicClientId, secret: undefined, redirectUris },
  ];
}

function findClient(state: SandboxState, id: string): Client | undefined {
  return clients(state).find((client) => timingSafeEqual(client.id, id));
}

function issuerOf(request: Request): string {
  return `${new URL(request.url).origin}${ISSUER_PATH}`;
}

// ---- metadata -----------------------------------------------------------------------------------------

/**
 * `GET /oauth2/.well-known/oauth-authorization-server`, and the RFC 8414 §3.1 form
 * `GET /.well-known/oauth-authorization-server/oauth2` (what a client derives from the issuer).
 */
async function metadata({ request }: RouteContext): Promise<Response> {
  const issuer = issuerOf(request);
  return json({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint: `${issuer}/revoke`,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint: `${issuer}/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: Object.keys(SCOPES),
    authorization_response_iss_parameter_supported: true,
  });
}

// ---- authorization endpoint ---------------------------------------------------------------------------

/** Parameters of an authorization request; any given twice is refused (RFC 6749 §3.1). */
interface RawParams {
  readonly values: ReadonlyMap<string, string>;
  readonly repeated: ReadonlySet<string>;
}

function rawParams(entries: Iterable<[string, string]>): RawParams {
  const values = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of entries) {
    if (values.has(name)) repeated.add(name);
    values.set(name, value);
  }
  return { values, repeated };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * RFC 9700 §2.1: a redirect URI is compared with the registered ones as an exact string. The one
 * exception is RFC 8252 §7.3's: on a loopback host over http the port may differ, so `npm start` on
 * another PORT still links. Host, path and everything else must still be exactly as registered.
 */
function isRegistered(client: Client, redirectUri: string): boolean {
  if (client.redirectUris.includes(redirectUri)) return true;
  let asked: URL;
  try {
    asked = new URL(redirectUri);
  } catch {
    return false;
  }
  if (asked.protocol !== 'http:' || !LOOPBACK_HOSTS.has(asked.hostname) || asked.username || asked.password) return false;
  return client.redirectUris.some((registered) => {
    const url = new URL(registered);
    url.port = asked.port;
    return url.href === redirectUri && LOOPBACK_HOSTS.has(url.hostname) && url.protocol === 'http:';
  });
}

/** A checked authorization request: where to answer, and what was asked. */
interface AuthorizationRequest {
  readonly client: Client;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly scope: string;
  readonly codeChallenge: string;
}

type Checked =
  /** Unknown client or redirect URI: the user agent must NOT be redirected (RFC 6749 §4.1.2.1). */
  | { kind: 'page'; status: number; title: string; message: string }
  /** Anything else wrong: an error redirect to the checked redirect URI. */
  | { kind: 'redirect'; redirectUri: string; state: string | undefined; error: ErrorCode; description: string }
  | { kind: 'ok'; request: AuthorizationRequest };

/**
 * RFC 6749 §4.1.1 + RFC 7636 §4.3, in the order §4.1.2.1 asks: client and redirect URI first (an error
 * page), then the rest (error redirects carrying `state` and `iss`).
 */
function checkAuthorizationRequest(state: SandboxState, params: RawParams): Checked {
  const { values, repeated } = params;
  const single = (name: string): string | undefined => (repeated.has(name) ? undefined : values.get(name) || undefined);

  const clientId = single('client_id');
  const client = clientId === undefined ? undefined : findClient(state, clientId);
  if (client === undefined) {
    return { kind: 'page', status: 400, title: 'Unknown application', message: 'This sign-in link names no application registered with the sandbox (client_id is missing, repeated or unknown).' };
  }
  const redirectUri = single('redirect_uri');
  if (redirectUri === undefined || !isRegistered(client, redirectUri)) {
    return { kind: 'page', status: 400, title: 'Unregistered return address', message: 'This sign-in link asks to send you back to an address that is not registered for this application (redirect_uri is missing, repeated or not registered), so the sandbox will not send you there.' };
  }
  const answerState = repeated.has('state') ? undefined : values.get('state') || undefined;
  const fail = (error: ErrorCode, description: string): Checked => ({ kind: 'redirect', redirectUri, state: answerState, error, description });

  if (repeated.size > 0) return fail('invalid_request', 'A parameter was sent more than once');
  const responseType = values.get('response_type');
  if (responseType === undefined || responseType === '') return fail('invalid_request', 'response_type is required');
  if (responseType !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported');
  const method = values.get('code_challenge_method');
  const challenge = values.get('code_challenge');
  if (method === undefined || challenge === undefined) return fail('invalid_request', 'PKCE is required: send code_challenge and code_challenge_method=S256');
  if (method !== 'S256') return fail('invalid_request', 'Only code_challenge_method=S256 is supported');
  if (!S256_CHALLENGE.test(challenge)) return fail('invalid_request', 'code_challenge must be 43 base64url characters');
  const asked = (values.get('scope') ?? '').split(' ').filter(Boolean);
  if (asked.some((scope) => SCOPES[scope] === undefined)) return fail('invalid_scope', 'An unknown scope was requested');
  const scope = asked.length === 0 ? DEFAULT_SCOPE : [...new Set(asked)].join(' ');
  return { kind: 'ok', request: { client, redirectUri, state: answerState, scope, codeChallenge: challenge } };
}

/** The authorization response (RFC 6749 §4.1.2), always with `iss` (RFC 9207 §2). */
function authorizationResponse(redirectUri: string, fields: Record<string, string | undefined>, issuer: string): Response {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set('iss', issuer);
  // 303, not 302 or 307: the browser must follow with a GET and drop the form body (RFC 9700 §4.12).
  return new Response(null, { status: 303, headers: { location: url.href, 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'no-referrer' } });
}

function errorRedirect(checked: Extract<Checked, { kind: 'redirect' }>, issuer: string): Response {
  return authorizationResponse(checked.redirectUri, { error: checked.error, error_description: checked.description, state: checked.state }, issuer);
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PAGE_STYLE = `
  :root { color-scheme: light; }
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1b1b1f; }
  main { max-width: 30rem; margin: 3rem auto; padding: 1.5rem; background: #fff; border: 1px solid #d0d3d9; border-radius: 8px; }
  h1 { font-size: 1.4rem; line-height: 1.3; margin: 0 0 1rem; }
  .actions { display: flex; gap: .75rem; flex-wrap: wrap; margin-top: 1.5rem; }
  button { font: inherit; padding: .6rem 1.4rem; border-radius: 6px; border: 2px solid #1d4ed8; cursor: pointer; }
  button[value=allow] { background: #1d4ed8; color: #fff; }
  button[value=deny] { background: #fff; color: #1d4ed8; }
  button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
  .who { color: #4b5058; font-size: .95rem; }
  code { background: #eef0f3; padding: 0 .25rem; border-radius: 3px; }
  @media (max-width: 32rem) { main { margin: 0; border-radius: 0; border-width: 0 0 1px; } }
`;

/** Headers of the server's pages: never cached, never framed (clickjacking), forms only back to us. */
function pageHeaders(formTargets: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formTargets}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    // Not no-referrer: under it a browser sends `Origin: null` with the consent POST. The 303 that
    // follows carries no-referrer, so the authorization request never reaches the client as a Referer.
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
  };
}

function page(title: string, body: string, status: number, formTargets = "'none'"): Response {
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · tokengate sandbox</title><style>${PAGE_STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>
`;
  return raw(html, status, 'text/html; charset=utf-8', pageHeaders(formTargets));
}

function errorPage(status: number, title: string, message: string): Response {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>\n<p>Go back to the application and start again.</p>`, status);
}

/** The consent page: who asks for what, and a form that posts the request back with the decision. */
function consentPage(request: Request, asked: AuthorizationRequest): Response {
  const scopes = asked.scope.split(' ');
  const heading = scopes.includes('orders:read') ? 'Sandbox Shop wants to read your orders' : 'Sandbox Shop wants to know who you are';
  const returnTo = new URL(asked.redirectUri).origin;
  const hidden: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: asked.client.id,
    redirect_uri: asked.redirectUri,
    scope: asked.scope,
    state: asked.state,
    code_challenge: asked.codeChallenge,
    code_challenge_method: 'S256',
  };
  const inputs = Object.entries(hidden)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `  <input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('\n');
  const action = new URL(request.url).pathname;
  const body = `<h1 id="consent-title">${escapeHtml(heading)}</h1>
<p class="who">Signed in to the tokengate sandbox as <strong>${SHOPPER.name}</strong>.</p>
<p>The application <strong>Sandbox Shop</strong> (<code>${escapeHtml(asked.client.id)}</code>) asks to:</p>
<ul>
${scopes.map((scope) => `  <li>${escapeHtml(SCOPES[scope] ?? scope)} <code>${escapeHtml(scope)}</code></li>`).join('\n')}
</ul>
<p>Whichever you choose, you go back to <strong>${escapeHtml(returnTo)}</strong>.</p>
<form method="post" action="${escapeHtml(action)}" aria-labelledby="consent-title">
${inputs}
  <div class="actions">
    <button type="submit" name="decision" value="allow">Allow</button>
    <button type="submit" name="decision" value="deny">Deny</button>
  </div>
</form>`;
  // form-action covers the redirect that follows the POST, so it names the client's origin too.
  return page(heading, body, 200, `'self' ${returnTo}`);
}

/**
 * `GET /oauth2/authorize`: checks the request and shows the consent page; `POST /oauth2/authorize`
 * (the consent form) checks it again and redirects with a code (Allow) or `access_denied` (Deny).
 */
async function authorize(context: RouteContext): Promise<Response> {
  const { request, state } = context;
  const issuer = issuerOf(request);
  if (request.method === 'GET') {
    const checked = checkAuthorizationRequest(state, rawParams(new URL(request.url).searchParams));
    if (checked.kind === 'page') return errorPage(checked.status, checked.title, checked.message);
    if (checked.kind === 'redirect') return errorRedirect(checked, issuer);
    return consentPage(request, checked.request);
  }

  // A consent decision comes from our own page. Browsers say where a form POST came from: Sec-Fetch-Site,
  // and Origin (which is "null" under some referrer policies, so it only counts when it names an origin).
  const site = request.headers.get('sec-fetch-site');
  const origin = request.headers.get('origin');
  if (site === 'cross-site' || site === 'same-site' || (origin !== null && origin !== 'null' && origin !== new URL(request.url).origin)) {
    return errorPage(403, 'Request refused', 'This decision was not sent from the sandbox’s own consent page.');
  }
  const body = await readBody(request, ['form']);
  if (!body.ok) return errorPage(400, 'Bad request', 'The consent form could not be read.');
  const checked = checkAuthorizationRequest(state, rawParams(stringEntries(body.params)));
  if (checked.kind === 'page') return errorPage(checked.status, checked.title, checked.message);
  if (checked.kind === 'redirect') return errorRedirect(checked, issuer);
  const asked = checked.request;
  const decision = param(body.params, 'decision');
  if (decision === 'deny') {
    return authorizationResponse(asked.redirectUri, { error: 'access_denied', error_description: 'The user declined the request', state: asked.state }, issuer);
  }
  if (decision !== 'allow') {
    return errorRedirect({ kind: 'redirect', redirectUri: asked.redirectUri, state: asked.state, error: 'invalid_request', description: 'decision must be allow or deny' }, issuer);
  }
  const code = randomToken(32);
  state.oauth2Codes.set(code, {
    clientId: asked.client.id,
    redirectUri: asked.redirectUri,
    scope: asked.scope,
    codeChallenge: asked.codeChallenge,
    expiresAt: state.config.now() + OAUTH2_CODE_LIFETIME_MS,
    family: randomToken(16),
    used: false,
  });
  return authorizationResponse(asked.redirectUri, { code, state: asked.state }, issuer);
}

function stringEntries(params: Params): [string, string][] {
  return [...params].filter((entry): entry is [string, string] => typeof entry[1] === 'string');
}

// ---- token endpoint -----------------------------------------------------------------------------------

/**
 * An RFC 6749 §5.2 error. Descriptions are fixed text: never what the client sent. A failed Basic
 * authentication is 401 with a Basic challenge (§5.2 `invalid_client`).
 */
function oauthError(status: number, error: ErrorCode, description: string, headers: Record<string, string> = {}): Response {
  return json({ error, error_description: description }, status, headers);
}

const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="sandbox-oauth2", charset="UTF-8"' };

/** RFC 6749 §2.3.1: Basic's id and secret are each application/x-www-form-urlencoded first. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Basic credentials, or undefined when the header is not well-formed Basic. */
function basicCredentials(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (match === null) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]!);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  return id === undefined || secret === undefined ? undefined : { id, secret };
}

type Authenticated = { ok: true; client: Client } | { ok: false; response: Response };

/**
 * Client authentication (RFC 6749 §2.3): client_secret_basic or client_secret_post for the confidential
 * client, `none` (client_id only) for the public one; one method per request.
 */
function authenticate(request: Request, params: Params, state: SandboxState): Authenticated {
  const refused = (basic: boolean): Authenticated => ({
    ok: false,
    response: basic ? oauthError(401, 'invalid_client', 'Client authentication failed', BASIC_CHALLENGE) : oauthError(401, 'invalid_client', 'Client authentication failed'),
  });
  const header = request.headers.get('authorization');
  const bodyId = param(params, 'client_id');
  const bodySecret = param(params, 'client_secret');
  if (header !== null) {
    if (bodySecret !== undefined) return { ok: false, response: oauthError(400, 'invalid_request', 'Use one client authentication method, not several') };
    const basic = basicCredentials(header.trim());
    if (basic === undefined || (bodyId !== undefined && bodyId !== basic.id)) return refused(true);
    const client = findClient(state, basic.id);
    if (client?.secret === undefined || !timingSafeEqual(basic.secret, client.secret)) return refused(true);
    return { ok: true, client };
  }
  if (bodyId === undefined) return refused(false);
  const client = findClient(state, bodyId);
  if (client === undefined) return refused(false);
  if (bodySecret !== undefined) {
    // client_secret_post; a public client has no secret to present.
    if (client.secret === undefined || !timingSafeEqual(bodySecret, client.secret)) return refused(false);
    return { ok: true, client };
  }
  // `none`: only a public client may come without a secret.
  if (client.secret !== undefined) return refused(false);
  return { ok: true, client };
}

/** A user's token pair; `family` ties every token descended from one code together. */
function issueTokens(state: SandboxState, clientId: string, scope: string, family: string): Response {
  const accessToken = randomToken(32);
  const refreshToken = randomToken(32);
  const common = { vendor: OAUTH2_SERVER, subject: 'user', clientId, scope, family } as const;
  state.tokens.add(accessToken, { ...common, kind: 'access', expiresAt: expiresAt(state, OAUTH2_ACCESS_LIFETIME) });
  state.tokens.add(refreshToken, { ...common, kind: 'refresh', expiresAt: undefined });
  return json({ access_token: accessToken, token_type: 'Bearer', expires_in: OAUTH2_ACCESS_LIFETIME, refresh_token: refreshToken, scope });
}

/** The code exchange: the shared checks (code-exchange.ts), then tokens for the client. */
async function authorizationCode(state: SandboxState, client: Client, params: Params): Promise<Response> {
  const grant = await redeemCode(state, state.oauth2Codes, client.id, params);
  if (grant instanceof Response) return grant;
  return issueTokens(state, client.id, grant.scope, grant.family);
}

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the refresh token used is dead afterwards. Presenting a
 * rotated-away one again means two parties hold it, so the whole family is revoked.
 */
function refreshToken(state: SandboxState, client: Client, params: Params): Response {
  const presented = param(params, 'refresh_token');
  if (presented === undefined) return oauthError(400, 'invalid_request', 'refresh_token is required');
  const refused = (): Response => oauthError(400, 'invalid_grant', 'The refresh token is invalid, rotated or revoked');
  const spentFamily = state.oauth2SpentRefreshTokens.get(presented);
  if (spentFamily !== undefined) {
    state.tokens.revokeFamily(spentFamily);
    return refused();
  }
  const grant = state.tokens.find(presented, OAUTH2_SERVER, 'refresh', state.config.now());
  if (grant === undefined || grant.family === undefined || !timingSafeEqual(grant.clientId, client.id)) return refused();
  const granted = (grant.scope ?? '').split(' ').filter(Boolean);
  const asked = param(params, 'scope')?.split(' ').filter(Boolean);
  // §6: a narrower scope may be asked for, never a wider one.
  if (asked !== undefined && asked.some((scope) => !granted.includes(scope))) return oauthError(400, 'invalid_scope', 'The scope asked for exceeds the one granted');
  state.tokens.remove(presented);
  state.oauth2SpentRefreshTokens.set(presented, grant.family);
  return issueTokens(state, client.id, asked === undefined ? granted.join(' ') : [...new Set(asked)].join(' '), grant.family);
}

/** `POST /oauth2/token`: form body only; authorization_code and refresh_token. */
async function token({ request, state }: RouteContext): Promise<Response> {
  const body = await readBody(request, ['form']);
  if (!body.ok) {
    return oauthError(400, 'invalid_request', body.reason === 'content_type' ? 'The body must be application/x-www-form-urlencoded' : 'The body is malformed or repeats a parameter');
  }
  const authenticated = authenticate(request, body.params, state);
  if (!authenticated.ok) return authenticated.response;
  switch (param(body.params, 'grant_type')) {
    case undefined:
      return oauthError(400, 'invalid_request', 'grant_type is required');
    case 'authorization_code':
      return authorizationCode(state, authenticated.client, body.params);
    case 'refresh_token':
      return refreshToken(state, authenticated.client, body.params);
    default:
      return oauthError(400, 'unsupported_grant_type', 'Only authorization_code and refresh_token are supported');
  }
}

// ---- revocation and introspection ---------------------------------------------------------------------

/**
 * The client's authenticated form body and the live record of its `token` (either kind; the hint only
 * says where to look first, RFC 7009 §2.1). Another client's token counts as unknown.
 */
async function presentedToken(request: Request, state: SandboxState): Promise<Response | { client: Client; value: string; record: TokenRecord | undefined }> {
  const body = await readBody(request, ['form']);
  if (!body.ok) return oauthError(400, 'invalid_request', 'The body must be an application/x-www-form-urlencoded form');
  const authenticated = authenticate(request, body.params, state);
  if (!authenticated.ok) return authenticated.response;
  const value = param(body.params, 'token');
  if (value === undefined) return oauthError(400, 'invalid_request', 'token is required');
  const now = state.config.now();
  const record = state.tokens.find(value, OAUTH2_SERVER, 'access', now) ?? state.tokens.find(value, OAUTH2_SERVER, 'refresh', now);
  const client = authenticated.client;
  return { client, value, record: record !== undefined && timingSafeEqual(record.clientId, client.id) ? record : undefined };
}

/**
 * `POST /oauth2/revoke` (RFC 7009): 200 whether or not the token was known (§2.2). A refresh token takes
 * its whole family with it, the access tokens issued from the same authorization included (§2.1).
 */
async function revoke({ request, state }: RouteContext): Promise<Response> {
  const presented = await presentedToken(request, state);
  if (presented instanceof Response) return presented;
  const { record, value } = presented;
  if (record?.kind === 'refresh' && record.family !== undefined) state.tokens.revokeFamily(record.family);
  else if (record !== undefined) state.tokens.remove(value);
  return raw('', 200, 'text/plain; charset=utf-8');
}

/** `POST /oauth2/introspect` (RFC 7662): confidential clients only; `{ active: false }` says nothing more (§2.2). */
async function introspect({ request, state }: RouteContext): Promise<Response> {
  const presented = await presentedToken(request, state);
  if (presented instanceof Response) return presented;
  if (presented.client.secret === undefined) return oauthError(401, 'invalid_client', 'Introspection needs a confidential client');
  const { record } = presented;
  if (record === undefined) return json({ active: false });
  return json({
    active: true,
    client_id: record.clientId,
    scope: record.scope ?? '',
    sub: SHOPPER.sub,
    token_type: record.kind === 'refresh' ? 'refresh_token' : 'Bearer',
    ...(record.expiresAt === undefined ? {} : { exp: Math.floor(record.expiresAt / 1000) }),
  });
}

// ---- protected resource -------------------------------------------------------------------------------

/** `GET /oauth2/api/me`: the signed-in shopper, and their orders with `orders:read` (RFC 6750 bearer). */
async function me(context: RouteContext): Promise<Response> {
  const auth = requireBearer(context, OAUTH2_SERVER, { error: 'unauthorized', error_description: 'A valid access token is required' });
  if (!auth.ok) return auth.response;
  const scopes = (auth.record.scope ?? '').split(' ');
  return json({ ...SHOPPER, ...(scopes.includes('orders:read') ? { orders: ORDERS } : {}) });
}

/** The generic OAuth 2.0 server. Token requests count under `stats().tokenRequests.oauth2`. */
export const oauth2Routes: readonly Route[] = [
  { vendor: OAUTH2_SERVER, kind: 'api', pattern: /^\/oauth2\/\.well-known\/oauth-authorization-server$/, methods: ['GET'], handle: metadata },
  { vendor: OAUTH2_SERVER, kind: 'api', pattern: /^\/\.well-known\/oauth-authorization-server\/oauth2$/, methods: ['GET'], handle: metadata },
  { vendor: OAUTH2_SERVER, kind: 'api', pattern: /^\/oauth2\/authorize$/, methods: ['GET', 'POST'], handle: authorize },
  { vendor: OAUTH2_SERVER, kind: 'token', pattern: /^\/oauth2\/token$/, methods: ['POST'], handle: token },
  // Revocation takes the server's armed faults, so a test can see an unlink whose revocation fails.
  { vendor: OAUTH2_SERVER, kind: 'api', pattern: /^\/oauth2\/revoke$/, methods: ['POST'], faults: true, handle: revoke },
  { vendor: OAUTH2_SERVER, kind: 'api', pattern: /^\/oauth2\/introspect$/, methods: ['POST'], handle: introspect },
  { vendor: OAUTH2_SERVER, kind: 'api', pattern: /^\/oauth2\/api\/me$/, methods: ['GET'], handle: me },
];
