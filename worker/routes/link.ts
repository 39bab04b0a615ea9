import { createPkce, createState, isTokenGateError, startAuthorization, type Profile } from 'tokengate';
import { authorizeSandboxUser } from 'tokengate/profiles';
import type { Config, VendorRuntime } from '../config.js';
import type { Env } from '../env.js';
import { clearHostCookie, parseCookies, serializeHostCookie } from '../http/cookies.js';
import { bodyRefused, readCappedBody } from '../http/body.js';
import { errorResponse, json, LINK_COOKIE, LINK_COOKIE_NAME, SESSION_COOKIE_NAME } from '../http/responses.js';
import { log } from '../log.js';
import { mintedSession } from '../object-names.js';
import { newSessionId, SESSION_MAX_AGE, sessionOf } from '../session.js';
import { checkBrowserCsrf } from '../proxy/cors.js';
import { limitedAnswer } from '../rate-limits.js';
import { coordinator, forget, kvKeyOf, sendWithToken, type Credential } from '../token-cache.js';
import type { UnlinkOutcome } from '../coordinator.js';

/** `{ state, code_challenge, code_challenge_method }`: well under a kilobyte. */
const MAX_AUTHORIZE_BODY = 4 * 1024;

/** The JSON object in `bytes`, or undefined for anything else. */
function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface LinkContext {
  env: Env;
  config: Config;
  /** The caller's address as the edge saw it, for per-caller limits (rate-limits.ts `callerOf`). */
  caller: string;
}

/** The redirect URI comes from configuration, never from the request's Host (SECURITY.md row 3). */
export function redirectUriOf(config: Config, vendor: string): string {
  return `${config.publicOrigin}${config.basePath}/link/${vendor}/callback`;
}

/**
 * The token-mediating redirect URI: a page of the app (the browser completes the flow itself), the
 * same for every vendor; the state kept in IndexedDB says which link it belongs to.
 */
export function mediatedRedirectUriOf(config: Config): string {
  return `${config.publicOrigin}${config.basePath}/callback`;
}

/** Longest `return_to` kept; a page path with its query is far shorter. */
const MAX_RETURN_TO = 1024;
/** Query parameters the callback puts on the return page: dropped from a kept path, so they never pile up. */
const OUTCOME_PARAMS = ['linked', 'link_error', 'vendor', 'replaced'];

/** Where `return_to` may point besides paths of the Worker's own origin. */
export interface ReturnOptions {
  /** Exact origins (ALLOWED_ORIGINS, the storefronts) whose pages a link may return to, as absolute URLs. */
  readonly storefrontOrigins?: readonly string[];
  /** The Worker's BASE_PATH: its routes under it are never a return page. */
  readonly basePath?: string;
}

/**
 * The page a BFF link goes back to. `return_to` may be a path on the Worker's own origin (the embed on
 * a page the Worker serves, or on the storefront that shares its host under BASE_PATH) or an absolute
 * `http(s)` URL whose origin is, character for character, one of `storefrontOrigins` (the embed on a
 * sibling host). The list comes from configuration, never from the request. Anything else falls back to
 * `/`: another origin, `//host`, a backslash, credentials in the URL, control characters, or one of the
 * Worker's own routes, so the callback can never redirect off the configured sites (an open redirect)
 * or into a loop.
 */
export function returnPathOf(value: string | null, publicOrigin: string, options: ReturnOptions = {}): string {
  if (value === null || value.length > MAX_RETURN_TO || /[\\\u0000-\u001f\u007f]/.test(value)) return '/';
  const own = new URL(publicOrigin).origin;
  const path = value.startsWith('/');
  let url: URL;
  try {
    url = path ? new URL(value, own) : new URL(value);
  } catch {
    return '/';
  }
  const allowed = path
    ? !value.startsWith('//') && url.origin === own
    : /^https?:$/.test(url.protocol) && url.username === '' && url.password === '' && (options.storefrontOrigins ?? []).includes(url.origin);
  const ownRoute = new RegExp(`^${(options.basePath ?? '').replaceAll('.', '\\.')}/(?:api|link|token|session)(?:/|$)`);
  // The parsed path, not only the raw text: `/.//host` resolves to `//host`, which a browser reads as a host.
  if (!allowed || url.pathname.startsWith('//') || (url.origin === own && ownRoute.test(url.pathname))) return '/';
  for (const name of OUTCOME_PARAMS) url.searchParams.delete(name);
  return `${path ? '' : url.origin}${url.pathname}${url.search}`;
}

/** The return page (a path, or a checked storefront URL) with the link's outcome added to its query. */
function backTo(returnPath: string | undefined, outcome: Record<string, string>): string {
  const url = new URL(returnPath ?? '/', 'https://return.invalid');
  for (const [name, value] of Object.entries(outcome)) url.searchParams.set(name, value);
  return url.origin === 'https://return.invalid' ? `${url.pathname}${url.search}` : url.href;
}

function redirect(location: string, cookies: string[] = []): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(null, { status: 303, headers });
}

/**
 * `/link/:vendor/:action`: account linking.
 *
 * BFF: `start` makes state and verifier here, keeps them in the session's Durable Object, sets a
 * `Lax` transaction cookie and sends the browser to the vendor; `callback` checks and consumes the
 * transaction, exchanges the code with the client secret, and sets the `Strict` session cookie. The
 * tokens never leave the Worker.
 *
 * Token-mediating: `config` tells the browser what it needs to run PKCE itself; `authorize` (Instacart's
 * fulfillment sandbox only) gets a code for the browser's challenge; `/token/:vendor` exchanges.
 */
export async function handleLink(request: Request, ctx: LinkContext, vendorName: string, action: string): Promise<Response> {
  const vendor = ctx.config.vendors.get(vendorName);
  if (vendor === undefined || vendor.link === undefined) return errorResponse(404, 'unknown_vendor', 'Account linking is not configured for this vendor');
  // A vendor configured for one linking mode refuses the other's actions before they cost anything (row 18).
  const otherMode = vendor.link.mode === 'mediated' ? action === 'start' : vendor.link.mode === 'bff' && action === 'authorize';
  if (otherMode) {
    const how = vendor.link.mode === 'bff' ? `links the BFF way only (/link/${vendor.name}/start)` : `links the token-mediating way only (/token/${vendor.name})`;
    if (request.method === 'GET') return redirect(backTo('/', { link_error: 'ERR_LINK_MODE', vendor: vendor.name }));
    return errorResponse(403, 'link_mode', `${vendor.name} ${how}`);
  }
  // Every action but `config` costs a Durable Object, a KV write or a vendor call (row 19); `status`
  // is a read the demo's page makes on every load, counted with `/status`.
  // A callback without the transaction cookie is refused before it costs anything: it spends no budget.
  if (action !== 'config' && !(action === 'callback' && !parseCookies(request.headers.get('cookie')).has(LINK_COOKIE))) {
    const limited = action === 'status' ? await limitedAnswer(ctx.env, 'status', ctx.caller) : await limitedAnswer(ctx.env, 'flow', ctx.caller, vendor.name);
    if (limited !== undefined) return limited;
  }
  switch (`${request.method} ${action}`) {
    case 'GET start':
      return start(request, ctx, vendor);
    case 'POST start':
      return startFromPage(request, ctx, vendor);
    case 'GET callback':
      return callback(request, ctx, vendor);
    case 'GET status':
      return status(request, ctx, vendor);
    case 'POST unlink':
      return unlink(request, ctx, vendor);
    case 'GET config':
      return json({ vendor: vendor.name, clientId: vendor.profile.clientId, scope: vendor.link.scope ?? null, redirectUri: mediatedRedirectUriOf(ctx.config), tokenUrl: `${ctx.config.publicOrigin}${ctx.config.basePath}/token/${vendor.name}`, authorizeUrl: vendor.profileName === 'instacart' ? null : (vendor.profile.authorizeUrl ?? null), issuer: vendor.profile.issuer ?? null, requireIss: vendor.profile.requireIss === true, modes: vendor.link.mode === undefined ? ['bff', 'mediated'] : [vendor.link.mode] });
    case 'POST authorize':
      return mediatedAuthorize(request, ctx, vendor);
    default:
      return errorResponse(404, 'not_found', 'No such linking action');
  }
}

/**
 * `Sec-Fetch-Site` values from which `start` may run: the Worker's own pages (`same-origin`), a
 * person typing or bookmarking the URL (`none`), and clients that send no such header (not a browser,
 * so no victim's cookies). A cross-site (or sibling-site) navigation does not carry the `Strict`
 * session cookie, so starting there would mint a new session and orphan the linked accounts (row 24).
 */
const START_FETCH_SITES = new Set(['same-origin', 'none']);

async function start(request: Request, ctx: LinkContext, vendor: VendorRuntime): Promise<Response> {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && !START_FETCH_SITES.has(site)) {
    log({ at: 'link.start', vendor: vendor.name, outcome: 'ERR_CROSS_SITE_START' });
    // Back to the site's front page, where the person can start the link themselves; nothing was changed.
    return redirect(backTo('/', { link_error: 'ERR_CROSS_SITE_START', vendor: vendor.name }));
  }
  const begun = await begin(request, ctx, vendor);
  if ('failed' in begun) return redirect(backTo(begun.returnTo, { link_error: begun.failed, vendor: vendor.name }));
  return redirect(begun.location, [begun.cookie]);
}

/**
 * `POST /link/:vendor/start`: the same start for the embed on a storefront page of another origin (a
 * sibling host of the same site). It needs an exactly listed Origin and the CSRF header, so only a
 * storefront page can run it; being a same-site fetch it carries the `Strict` session cookie, so a
 * linked session is kept, never replaced (row 24). It answers `{ url }`, where the page then sends the
 * browser, and sets the `Lax` transaction cookie the callback needs.
 */
async function startFromPage(request: Request, ctx: LinkContext, vendor: VendorRuntime): Promise<Response> {
  if (request.headers.get('origin') === null || checkBrowserCsrf(request, ctx.config.allowedOrigins) !== 'ok') {
    return errorResponse(403, 'csrf', 'Starting a link from a page needs a listed Origin and X-Tokengate-CSRF: 1');
  }
  const begun = await begin(request, ctx, vendor);
  if ('failed' in begun) return errorResponse(502, 'link_failed', 'The link could not be started', new Headers(), { reason: begun.failed });
  return json({ url: begun.location }, 200, new Headers({ 'set-cookie': begun.cookie }));
}

/** Makes the login transaction and keeps it in the session's Durable Object. */
async function begin(request: Request, ctx: LinkContext, vendor: VendorRuntime): Promise<{ location: string; cookie: string } | { failed: string; returnTo: string }> {
  // A browser that starts again before its callback keeps its one pending session (the transaction
  // cookie names it), so restarting mints no new Durable Object; each pending link expires (row 24).
  const session = sessionOf(request) ?? pendingSessionOf(request) ?? mintedSession(newSessionId());
  const redirectUri = redirectUriOf(ctx.config, vendor.name);
  const scope = vendor.link?.scope?.split(' ').filter(Boolean);
  const returnTo = returnPathOf(new URL(request.url).searchParams.get('return_to'), ctx.config.publicOrigin, { storefrontOrigins: ctx.config.allowedOrigins, basePath: ctx.config.basePath });
  let link: Awaited<ReturnType<typeof instacartStart>>;
  try {
    // With a PAR endpoint (options.parUrl) this pushes the request from here with the client's secret or
    // assertion, and the browser gets only client_id + request_uri (RFC 9126).
    link = vendor.profileName === 'instacart' ? await instacartStart(ctx, vendor, redirectUri, scope) : await startAuthorization(vendor.profile, { redirectUri, ...(scope ? { scope } : {}) });
  } catch (error) {
    // A refused or failed push, or a key that does not import: its code only (messages carry no secrets, but the page needs none).
    const code = isTokenGateError(error) ? error.code : 'ERR_INTERNAL';
    log({ at: 'link.start', vendor: vendor.name, outcome: code });
    return { failed: code, returnTo };
  }
  if ('ok' in link) return { failed: link.code, returnTo };
  await (await coordinator(ctx.env, { kind: 'session', vendor: vendor.name, session })).beginLink(vendor.name, {
    state: link.state,
    codeVerifier: link.codeVerifier,
    redirectUri,
    createdAt: Date.now(),
    expiresAt: Date.now() + ctx.config.linkMaxAge * 1000,
    ...(returnTo === '/' ? {} : { returnTo }),
  });
  log({ at: 'link.start', vendor: vendor.name });
  return { location: link.url, cookie: serializeHostCookie(LINK_COOKIE_NAME, session, { sameSite: 'Lax', maxAge: ctx.config.linkMaxAge }) };
}

/** The session a pending link's transaction cookie names (the `Lax` `__Host-tg_link`). */
function pendingSessionOf(request: Request): string | undefined {
  return parseCookies(request.headers.get('cookie')).get(LINK_COOKIE);
}

async function callback(request: Request, ctx: LinkContext, vendor: VendorRuntime): Promise<Response> {
  const session = pendingSessionOf(request);
  const clearLink = clearHostCookie(LINK_COOKIE_NAME, 'Lax');
  if (session === undefined) {
    log({ at: 'link.callback', vendor: vendor.name, outcome: 'no_transaction_cookie' });
    // No cookie came, so there is none to clear: a cookie the browser withheld (a cross-site request) stays as it is.
    if (request.headers.get('accept')?.includes('text/html')) return redirect(backTo('/', { link_error: 'ERR_NO_TRANSACTION', vendor: vendor.name }));
    return errorResponse(400, 'no_link_in_progress', 'This browser has no account link in progress; start again');
  }
  const url = new URL(request.url);
  // Rebuild the callback URL on the configured origin: the Host header is never trusted.
  const callbackUrl = `${ctx.config.publicOrigin}${url.pathname}${url.search}`;
  const credential: Credential = { kind: 'session', vendor: vendor.name, session };
  const outcome = await (await coordinator(ctx.env, credential)).completeLink(vendor.name, callbackUrl);
  log({ at: 'link.callback', vendor: vendor.name, outcome: outcome.ok ? 'linked' : outcome.code, ...(outcome.replaced === undefined ? {} : { replaced: outcome.replaced }) });
  if (!outcome.ok) {
    const status = outcome.code === 'ERR_LINKED_MEDIATED' ? 409 : outcome.code === 'ERR_NO_TRANSACTION' || outcome.code.startsWith('ERR_STATE') || outcome.code.startsWith('ERR_ISSUER') || outcome.code === 'ERR_REDIRECT_URI_MISMATCH' ? 400 : 502;
    // A callback without the transaction's state is not its answer: anyone can send one (a page of
    // another site navigating here carries the Lax cookie). It leaves the pending link (coordinator)
    // and the cookie that names it, so the shopper's real callback still completes (row 24).
    const forged = outcome.code.startsWith('ERR_STATE');
    const cleared = forged ? [] : [clearLink];
    const headers = new Headers(forged ? {} : { 'set-cookie': clearLink });
    // A page the person can act on: the demo reads the code and explains it.
    if (request.headers.get('accept')?.includes('text/html')) return redirect(backTo(outcome.returnTo, { link_error: outcome.code, vendor: vendor.name }), cleared);
    return errorResponse(status, 'link_failed', outcome.message, headers, { reason: outcome.code });
  }
  // A re-link replaced the session's grant: `replaced` says whether the vendor revoked the old one (row 18).
  return redirect(backTo(outcome.returnTo, { linked: vendor.name, ...(outcome.replaced === undefined ? {} : { replaced: outcome.replaced }) }), [clearLink, serializeHostCookie(SESSION_COOKIE_NAME, session, { sameSite: 'Strict', maxAge: SESSION_MAX_AGE })]);
}

async function status(request: Request, ctx: LinkContext, vendor: VendorRuntime): Promise<Response> {
  const session = sessionOf(request);
  if (session === undefined) return json({ vendor: vendor.name, linked: false });
  const state = await (await coordinator(ctx.env, { kind: 'session', vendor: vendor.name, session })).status(vendor.name, true);
  return json({ vendor: vendor.name, linked: state.held, tokenValid: state.cached, ...(state.expiresAt === undefined ? {} : { expiresAt: state.expiresAt }), tokenRequests: state.tokenRequests, ...(state.lastError ? { lastError: state.lastError } : {}) });
}

async function unlink(request: Request, ctx: LinkContext, vendor: VendorRuntime): Promise<Response> {
  if (checkBrowserCsrf(request, ctx.config.allowedOrigins) !== 'ok') return errorResponse(403, 'csrf', 'Unlinking needs a same-origin request with X-Tokengate-CSRF: 1');
  const session = sessionOf(request);
  let outcome: UnlinkOutcome = { revocation: 'nothing_to_revoke' };
  if (session !== undefined) {
    const credential: Credential = { kind: 'session', vendor: vendor.name, session };
    outcome = await (await coordinator(ctx.env, credential)).unlink(vendor.name, await kvKeyOf(credential));
    await forget(credential);
  }
  log({ at: 'link.unlink', vendor: vendor.name, revocation: outcome.revocation, ...('code' in outcome ? { code: outcome.code } : {}) });
  const failed = outcome.revocation === 'failed' ? { message: `Unlinked here; ${vendor.name} did not confirm that it revoked the tokens (${outcome.code})` } : {};
  return json({ vendor: vendor.name, linked: false, ...outcome, ...failed });
}

/**
 * Token-mediating Instacart: the browser made the verifier and sends only the challenge; the Worker
 * authorizes a sandbox test user with its app token and answers where the vendor would redirect.
 */
async function mediatedAuthorize(request: Request, ctx: LinkContext, vendor: VendorRuntime): Promise<Response> {
  if (checkBrowserCsrf(request, ctx.config.allowedOrigins) !== 'ok') return errorResponse(403, 'csrf', 'This call needs a same-origin request with X-Tokengate-CSRF: 1');
  if (vendor.profileName !== 'instacart') return errorResponse(404, 'not_found', 'Only the Instacart fulfillment sandbox authorizes through the Worker');
  const read = await readCappedBody(request, MAX_AUTHORIZE_BODY);
  if (!read.ok) return bodyRefused(read.reason, MAX_AUTHORIZE_BODY);
  const body = parseJsonObject(read.bytes);
  const state = body?.['state'];
  const challenge = body?.['code_challenge'];
  if (typeof state !== 'string' || typeof challenge !== 'string' || body?.['code_challenge_method'] !== 'S256') {
    return errorResponse(400, 'invalid_request', 'Send JSON { state, code_challenge, code_challenge_method: "S256" }');
  }
  const redirectUri = mediatedRedirectUriOf(ctx.config);
  const code = await sandboxCode(ctx, vendor, redirectUri, vendor.link?.scope ?? '', challenge);
  if (!code.ok) return errorResponse(502, 'authorize_failed', code.message, new Headers(), { reason: code.code });
  const callbackUrl = new URL(redirectUri);
  callbackUrl.searchParams.set('code', code.value);
  callbackUrl.searchParams.set('state', state);
  return json({ callbackUrl: callbackUrl.href });
}

/**
 * Instacart's fulfillment sandbox has no consent page: the Worker authorizes a test user with its app
 * token and the challenge, and sends the browser to its own callback as the vendor would.
 */
async function instacartStart(
  ctx: LinkContext,
  vendor: VendorRuntime,
  redirectUri: string,
  scope: string[] | undefined,
): Promise<{ url: string; state: string; codeVerifier: string } | { ok: false; code: string; message: string }> {
  const { verifier, challenge } = await createPkce();
  const state = createState();
  const code = await sandboxCode(ctx, vendor, redirectUri, scope?.join(' ') ?? '', challenge);
  if (!code.ok) return code;
  const url = new URL(redirectUri);
  url.searchParams.set('code', code.value);
  url.searchParams.set('state', state);
  return { url: url.href, state, codeVerifier: verifier };
}

type Result<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** Creates a fulfillment-sandbox test user and authorizes it for `challenge`. */
async function sandboxCode(ctx: LinkContext, vendor: VendorRuntime, redirectUri: string, scope: string, challenge: string): Promise<Result<string>> {
  const profile: Profile = vendor.profile;
  const fetch = ctx.config.fetch;
  const base = profile.apiBaseUrl?.replace(/\/$/, '') ?? '';
  let appToken = '';
  const created = await sendWithToken(ctx.env, ctx.config, { kind: 'app', vendor: vendor.name }, (accessToken) => {
    appToken = accessToken;
    return fetch(`${base}/v2/fulfillment_sandbox/instacart_users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ first_name: 'Test', last_name: 'Shopper' }),
    });
  });
  if (!created.ok) return created;
  const user = (await created.value.json().catch(() => undefined)) as { id?: number } | undefined;
  if (!created.value.ok || typeof user?.id !== 'number') return { ok: false, code: 'ERR_SANDBOX_USER', message: 'The fulfillment sandbox did not create a test user' };
  try {
    const code = await authorizeSandboxUser(profile, { userId: String(user.id), appToken, redirectUri, scope, codeChallenge: challenge, fetch });
    return { ok: true, value: code };
  } catch (error) {
    const known = error as { code?: string; message?: string };
    return { ok: false, code: known.code ?? 'ERR_AUTHORIZE', message: known.message ?? 'The authorize call failed' };
  }
}

