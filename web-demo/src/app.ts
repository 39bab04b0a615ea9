// The tokengate demo page (web-demo/dist/app.js, built by scripts/build-web.mjs). No framework; every
// text goes in through textContent.
//
// HTTP calls (to the Worker, same-origin, unless it says the sandbox):
//   GET  /status                         every 2 s while the tab is visible: vendors, routes, token state, the sandbox's origin
//   GET  /api/<vendor><path>             "Call …" buttons; header X-Tokengate-CSRF: 1
//   GET  /link/<vendor>/status           linked state of this browser's session
//   GET  /link/<vendor>/start            (navigation) BFF linking; comes back as /?linked=… or /?link_error=…&vendor=…
//   POST /link/<vendor>/unlink           X-Tokengate-CSRF: 1
//   GET  /link/<vendor>/config           token-mediating linking (via dist/tokengate.js)
//   POST /link/<vendor>/authorize        token-mediating, vendors without a consent page; JSON, X-Tokengate-CSRF: 1
//   POST /token/<vendor>                 token-mediating exchange and renewal (the core's token requests)
//   POST /reset/<vendor>                 after a sandbox reset: the app credential starts over (an operator route)
//   sandbox GET /_stats, POST /_faults, /_reset   on the sandbox's own origin (CORS), only when /status names one
import { describeCode, describeError, describeFailure, displayName, formatRemaining } from './messages.ts';
import type { MediatedStatus } from './mediated.ts';
import type { Unlinked } from './worker-client.ts';

/** What `GET /status` answers (worker/routes/status.ts): per vendor, never a token. */
interface StatusAnswer {
  now: number;
  sandbox: { origin: string } | null;
  vendors: VendorStatus[];
}
interface VendorStatus {
  vendor: string;
  profile: string;
  routes: { method: string; path: string; access: 'public' | 'session' | 'key' }[];
  app?: CredentialStatus;
  linkable: boolean;
  linked: CredentialStatus | null;
}
/** One credential's state (worker/coordinator.ts `CredentialStatus`). */
interface CredentialStatus {
  held: boolean;
  cached: boolean;
  expiresAt?: number;
  tokenRequests: number;
  lastError?: LastError;
  lastSuccess?: { at: number };
}
interface LastError {
  code: string;
  message: string;
  at: number;
}
/** The sandbox's `GET /_stats`. */
interface SandboxStats {
  tokenRequests: Record<string, number>;
  refusedPolls: number;
  apiCalls: Record<string, number>;
}
/** What the link card shows of a session's link. */
interface LinkState {
  linked: boolean;
  expiresAt?: number | undefined;
  lastError?: LastError | undefined;
}

const POLL_MS = 2000;
const CSRF = { 'x-tokengate-csrf': '1' };
/** Values for path parameters of allow-listed routes, so their buttons can call something real. */
const SAMPLE_PARAMS: Readonly<Record<string, string>> = { id: 'b7d2554b0ce847cd82f3ac9bd1c0dfad' };
const FAULTS: readonly (readonly [fault: string, label: string])[] = [
  ['5xx', 'Outage (503)'],
  ['429', 'Rate limit (429)'],
  ['slow', 'Slow answers (2 s)'],
  ['truncated', 'Truncated JSON'],
  ['html', 'HTML login page'],
  ['revoke', 'Revoke all tokens'],
  ['none', 'Clear the fault'],
];
/** What each fault does, for the confirmation line. */
const FAULT_WORDS: Readonly<Record<string, string>> = {
  '5xx': 'will answer 503 (an outage)',
  '429': 'will answer 429 Too Many Requests with Retry-After',
  slow: 'will answer after a 2 second delay',
  truncated: 'will answer with JSON cut off half-way',
  html: 'will answer with an HTML login page instead of JSON',
};

// ---- tiny DOM helpers ----------------------------------------------------------------------------------

/** A child of h() and fill(): a node, a string, nothing (skipped), or a list of them. */
type Child = Node | string | null | undefined | false;
type Children = Child | readonly Child[];
/** Attributes; `text` is the textContent; false, null and undefined leave the attribute out. */
type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>>;

const present = (child: Child): child is Node | string => child !== undefined && child !== null && child !== false;

/** Creates an element; `attrs` are attributes (or `text` for textContent); children are nodes or strings. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Children[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') el.textContent = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(...children.flat().filter(present));
  return el;
}

/** The page's element for `selector` (index.html has every one the script asks for). */
function $<T extends HTMLElement = HTMLElement>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (el === null) throw new Error(`index.html has no ${selector}`);
  return el;
}
/** replaceChildren that skips null / undefined / false, like h(). */
const fill = (el: Element, ...children: Children[]): void => el.replaceChildren(...children.flat().filter(present));
const idFor = (prefix: string, vendor: string): string => `${prefix}-${vendor.replace(/[^a-z0-9-]/gi, '_')}`;

/** "GET /v2/orders" with `:id` filled in from SAMPLE_PARAMS. */
function samplePath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => encodeURIComponent(SAMPLE_PARAMS[name] ?? 'sample'));
}

function ago(at: number): string {
  const seconds = Math.max(0, Math.round((Date.now() + clockOffset - at) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return new Date(at).toLocaleTimeString();
}

// ---- the core bundle (token-mediating linking) is loaded lazily: the rest works without it ------------

type Core = typeof import('./tokengate-browser.ts');
let corePromise: Promise<Core> | undefined;
function core(): Promise<Core> {
  corePromise ??= import('./tokengate-browser.ts').catch((error) => {
    corePromise = undefined;
    throw Object.assign(new Error('The page’s tokengate chunk could not be loaded (was the demo rebuilt meanwhile?). Reload the page.'), { cause: error });
  });
  return corePromise;
}

// ---- showing an HTTP answer -----------------------------------------------------------------------------

const MAX_SHOWN = 6000;

/**
 * A result area: a small live summary (announced) and the details (the body, not announced: a screen
 * reader would otherwise read the whole JSON out). Made on first use inside `target`.
 */
const resultParts = new WeakMap<HTMLElement, { summary: HTMLElement; details: HTMLElement }>();
function parts(target: HTMLElement): { summary: HTMLElement; details: HTMLElement } {
  let made = resultParts.get(target);
  if (made === undefined) {
    made = { summary: h('div', { class: 'summary', role: 'status', 'aria-live': 'polite' }), details: h('div', { class: 'details' }) };
    target.replaceChildren(made.summary, made.details);
    resultParts.set(target, made);
  }
  return made;
}

/**
 * Renders a Worker answer into `target`: what was called (`label`, so answers of the several buttons
 * that share the area are told apart), status, words for a failure, and the body pretty-printed.
 */
async function showResponse(target: HTMLElement, response: Response, started: number, label?: string): Promise<void> {
  const ms = Math.round(performance.now() - started);
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  const ok = response.ok;
  const pretty = body === undefined ? text : JSON.stringify(body, null, 2);
  const shown = pretty.length > MAX_SHOWN ? `${pretty.slice(0, MAX_SHOWN)}\n… (${pretty.length - MAX_SHOWN} more characters)` : pretty;
  const { summary, details } = parts(target);
  fill(
    summary,
    h('p', { class: `outcome ${ok ? 'ok' : 'error'}` }, label ? `${label} → ` : '', h('strong', { text: `${response.status} ${response.statusText || (ok ? 'OK' : '')}`.trim() }), ` · ${ms} ms`),
    ok ? null : h('p', { class: 'explain', text: describeFailure(response.status, body, response.headers) }),
  );
  fill(details, shown ? h('pre', { tabindex: '0', 'aria-label': 'Response body' }, h('code', { text: shown })) : h('p', { class: 'muted', text: '(empty body)' }));
}

function showError(target: HTMLElement, error: unknown, retry?: HTMLElement): void {
  const { summary, details } = parts(target);
  fill(summary, h('p', { class: 'outcome error' }, h('strong', { text: 'Failed' })), h('p', { class: 'explain', text: describeError(error) }), retry);
  details.replaceChildren();
}

function showInfo(target: HTMLElement, text: string, kind: 'ok' | 'muted' | 'error' = 'ok'): void {
  const { summary, details } = parts(target);
  summary.replaceChildren(h('p', { class: `outcome ${kind}`, text }));
  details.replaceChildren();
}

/**
 * Runs `task` once at a time per button, with a busy note in `target`. The button is marked
 * aria-disabled, not disabled: a disabled button drops keyboard focus, and the person loses their place.
 */
async function busy(button: HTMLElement, target: HTMLElement, label: string, task: () => Promise<void>): Promise<void> {
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  target.setAttribute('aria-busy', 'true');
  showInfo(target, label, 'muted');
  try {
    await task();
  } finally {
    button.removeAttribute('aria-disabled');
    target.removeAttribute('aria-busy');
  }
}

/** The latest call of each result area. */
const latestCall = new WeakMap<HTMLElement, number>();

async function callApi(vendor: string, path: string, target: HTMLElement, button: HTMLElement): Promise<void> {
  const url = `/api/${encodeURIComponent(vendor)}${path}`;
  // The area shows the latest call: a slow answer to an earlier button does not replace it.
  const call = (latestCall.get(target) ?? 0) + 1;
  latestCall.set(target, call);
  const latest = (): boolean => latestCall.get(target) === call;
  await busy(button, target, `Calling GET ${path}…`, async () => {
    const started = performance.now();
    try {
      const response = await fetch(url, { headers: { ...CSRF, accept: 'application/json' } });
      if (latest()) await showResponse(target, response, started, `GET ${path}`);
      else await response.body?.cancel();
    } catch (error) {
      if (latest()) showError(target, error);
    }
  });
  schedulePoll(0);
}

// ---- state -------------------------------------------------------------------------------------------

/** The last /status answer, and server clock minus local clock when it arrived. */
let status: StatusAnswer | undefined;
let clockOffset = 0;
let renderedVendors = '';
/** What the live panel last announced per vendor, so only changes are spoken. */
const announced = new Map<string, string>();
/** The token-mediating state per vendor: { linked, expiresAt } of this page's access token. */
const pageTokens = new Map<string, MediatedStatus>();

// ---- vendors section ------------------------------------------------------------------------------------

function renderVendorCards(vendors: VendorStatus[]): void {
  const cards = vendors.map((v) => {
    const resultId = idFor('call-result', v.vendor);
    const result = h('div', { class: 'result', id: resultId });
    const buttons: HTMLButtonElement[] = [];
    const notes: HTMLElement[] = [];
    for (const route of v.routes) {
      if (route.method === 'GET' && route.access === 'public') {
        const path = samplePath(route.path);
        const button = h('button', { type: 'button', 'aria-controls': resultId }, `Call GET ${path}`);
        button.addEventListener('click', () => callApi(v.vendor, path, result, button));
        buttons.push(button);
      }
    }
    const routes = h(
      'ul',
      { class: 'routes' },
      v.routes.map((route) =>
        h(
          'li',
          {},
          h('code', { text: `${route.method} ${route.path}` }),
          ' ',
          h('span', { class: `badge badge-${route.access}`, text: route.access }),
          route.access === 'session' ? h('span', { class: 'muted', text: ' acts as the linked shopper (see “Link an account”)' }) : null,
          route.access === 'key' ? h('span', { class: 'muted', text: ' server-to-server only (X-Tokengate-Key)' }) : null,
        ),
      ),
    );
    if (buttons.length === 0) notes.push(h('p', { class: 'muted', text: 'No public GET route to call from a browser.' }));
    return h(
      'article',
      { class: 'card', 'aria-labelledby': idFor('vendor', v.vendor) },
      h('h3', { id: idFor('vendor', v.vendor) }, displayName(v.vendor), ' ', h('span', { class: 'profile', text: `profile: ${v.profile}` })),
      routes,
      notes,
      buttons.length ? h('div', { class: 'actions' }, buttons) : null,
      result,
    );
  });
  $('#vendor-cards').replaceChildren(...cards);
}

// ---- live panel ---------------------------------------------------------------------------------------

function errorWords(lastError: LastError | undefined): HTMLElement {
  if (!lastError) return h('span', { class: 'muted', text: 'none' });
  return h(
    'span',
    { class: 'error-text' },
    describeCode(lastError.code, lastError.message),
    ' ',
    h('span', { class: 'muted', text: `(${lastError.code}, ${ago(lastError.at)})` }),
  );
}

function expiryCell(expiresAt: number | undefined, clock: 'server' | 'local' = 'server'): HTMLElement {
  if (expiresAt === undefined || expiresAt === null) return h('span', { class: 'muted', text: '—' });
  return h('span', { 'data-expires': String(expiresAt), 'data-clock': clock, text: remaining(expiresAt, clock) });
}

function remaining(expiresAt: number, clock: string | undefined): string {
  const now = clock === 'server' ? Date.now() + clockOffset : Date.now();
  return formatRemaining(expiresAt - now);
}

function row(term: string, value: Children): HTMLElement {
  return h('div', {}, h('dt', { text: term }), h('dd', {}, value));
}

/** The sandbox's counters, read from its own origin with each poll (null without a sandbox or when it is down). */
let sandboxStats: SandboxStats | null = null;

function sandboxCount(vendor: string): number | undefined {
  const counts = sandboxStats?.tokenRequests;
  if (!counts || !isSandboxVendor(vendor)) return undefined;
  return counts[vendor] ?? 0;
}

/** Vendors the sandbox counts on their own: the five, its OAuth 2.0 server and the echo upstream. */
function isSandboxVendor(vendor: string): boolean {
  return sandboxStats !== null && (Object.hasOwn(sandboxStats.tokenRequests, vendor) || vendor === 'oauth2' || vendor === 'echo');
}

/** Faults can be armed for the five vendors and the OAuth 2.0 server. */
function takesFaults(vendor: string): boolean {
  return vendor !== 'echo' && isSandboxVendor(vendor);
}

async function loadSandboxStats(): Promise<SandboxStats | null> {
  if (!status?.sandbox) return (sandboxStats = null);
  try {
    const response = await fetch(`${status.sandbox.origin}/_stats`);
    sandboxStats = response.ok ? ((await response.json()) as SandboxStats) : null;
  } catch {
    sandboxStats = null;
  }
  return sandboxStats;
}

function renderLive(vendors: VendorStatus[]): void {
  const cards = vendors.map((v) => {
    const app: Partial<CredentialStatus> = v.app ?? {};
    const seen = sandboxCount(v.vendor);
    const requests = `${app.tokenRequests ?? 0} by the Worker${seen === undefined ? '' : ` · ${seen} seen by the sandbox`}`;
    const linkedPart = v.linkable
      ? [
          h('h4', { text: 'Your linked account' }),
          h(
            'dl',
            {},
            row('Linked', v.linked?.cached ? 'yes (the Worker holds a token)' : 'no'),
            row('Expires in', expiryCell(v.linked?.cached ? v.linked?.expiresAt : undefined)),
            row('Token requests', String(v.linked?.tokenRequests ?? 0)),
            row('Last error', errorWords(v.linked?.lastError)),
          ),
        ]
      : [];
    return h(
      'article',
      { class: 'card', 'aria-labelledby': idFor('live', v.vendor) },
      h('h3', { id: idFor('live', v.vendor), text: displayName(v.vendor) }),
      h(
        'dl',
        {},
        row('App token cached', app.cached ? h('span', { class: 'yes', text: 'yes' }) : h('span', { class: 'no', text: 'no' })),
        row('Expires in', expiryCell(app.cached ? app.expiresAt : undefined)),
        row('Upstream token requests', requests),
        row('Last token obtained', app.lastSuccess ? ago(app.lastSuccess.at) : h('span', { class: 'muted', text: 'not yet' })),
        row('Last error', errorWords(app.lastError)),
      ),
      linkedPart,
    );
  });
  $('#live-cards').replaceChildren(...cards);
  announceChanges(vendors);
}

/** Speaks changes only: a token obtained or dropped, a new error. */
function announceChanges(vendors: VendorStatus[]): void {
  const lines: string[] = [];
  for (const v of vendors) {
    const app: Partial<CredentialStatus> = v.app ?? {};
    const key = `${app.cached ? 1 : 0}|${app.lastError?.at ?? ''}`;
    const before = announced.get(v.vendor);
    announced.set(v.vendor, key);
    if (before === undefined || before === key) continue;
    const [wasCached, wasErrorAt] = before.split('|');
    if (app.lastError && String(app.lastError.at) !== wasErrorAt) lines.push(`${displayName(v.vendor)}: ${describeCode(app.lastError.code, app.lastError.message)}`);
    else if (app.cached && wasCached === '0') lines.push(`${displayName(v.vendor)}: the Worker obtained a token.`);
    else if (!app.cached && wasCached === '1') lines.push(`${displayName(v.vendor)}: no token cached any more.`);
  }
  if (lines.length) $('#live-announcer').textContent = lines.join(' ');
}

function tick(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-expires]')) {
    el.textContent = remaining(Number(el.dataset.expires), el.dataset.clock);
  }
}

// ---- link section ---------------------------------------------------------------------------------------

function linkCard(v: VendorStatus): HTMLElement {
  const vendor = v.vendor;
  const name = displayName(vendor);
  const resultId = idFor('link-result', vendor);
  const result = h('div', { class: 'result', id: resultId });
  const state = h('p', { class: 'link-state', 'data-link-state': vendor, text: 'Checking…' });
  const pageToken = h('p', { class: 'link-page-token', 'data-page-token': vendor, hidden: true });
  const sessionRoutes = v.routes.filter((route) => route.access === 'session' && route.method === 'GET');

  const bff = h('a', { class: 'button', href: `/link/${encodeURIComponent(vendor)}/start` }, 'Link (server keeps the tokens)', h('span', { class: 'visually-hidden', text: ` — ${name}` }));
  const mediated = h('button', { type: 'button', 'aria-controls': resultId }, 'Link (this page runs PKCE)', h('span', { class: 'visually-hidden', text: ` — ${name}` }));
  mediated.addEventListener('click', () =>
    busy(mediated, result, `Linking ${name}: this page is making a PKCE verifier and state…`, async () => {
      try {
        const tg = await core();
        const outcome = await tg.startMediatedLink(vendor);
        if (outcome.kind === 'redirect') {
          showInfo(result, `Going to ${name} to sign in…`, 'muted');
          location.assign(outcome.url);
          return;
        }
        pageTokens.set(vendor, outcome.status);
        showInfo(result, `Linked ${name} in token-mediating mode. This page holds an access token (never shown) until it expires; the Worker keeps the refresh token.`);
        await refreshLink(vendor);
      } catch (error) {
        showError(result, error, h('p', { text: 'Try again with the button above.' }));
      }
    }),
  );

  const renew = h('button', { type: 'button', class: 'secondary', 'data-renew': vendor, hidden: true, 'aria-controls': resultId }, 'Get a fresh access token');
  renew.addEventListener('click', () =>
    busy(renew, result, 'Asking the Worker for a fresh access token (it renews from your session)…', async () => {
      try {
        const tg = await core();
        const fresh = await tg.renewMediated(vendor);
        pageTokens.set(vendor, fresh);
        showInfo(result, `New access token for this page; it expires in ${fresh.expiresAt ? formatRemaining(fresh.expiresAt - Date.now()) : 'an unknown time'}.`);
        renderPageToken(vendor);
      } catch (error) {
        showError(result, error);
      }
    }),
  );

  const calls = sessionRoutes.map((route) => {
    const path = samplePath(route.path);
    const button = h('button', { type: 'button', 'aria-controls': resultId }, `Call as me: GET ${path}`);
    button.addEventListener('click', () => callApi(vendor, path, result, button));
    return button;
  });

  const unlinkButton = h('button', { type: 'button', class: 'secondary', 'aria-controls': resultId }, 'Unlink', h('span', { class: 'visually-hidden', text: ` ${name}` }));
  unlinkButton.addEventListener('click', () =>
    busy(unlinkButton, result, `Unlinking ${name}…`, async () => {
      try {
        const unlinked = await unlinkVendor(vendor);
        pageTokens.delete(vendor);
        // The "is linked" notice of a BFF return is no longer true.
        const notice = $('#notice');
        if (notice.dataset.vendor === vendor) notice.hidden = true;
        showInfo(
          result,
          unlinked?.revocation === 'nothing_to_revoke'
            ? `No ${name} account was linked in this browser: there was nothing to unlink.`
            : `Unlinked ${name}. The Worker dropped its tokens for your session. ${revocationWords(name, unlinked)}`,
        );
        await refreshLink(vendor);
      } catch (error) {
        showError(result, error);
      }
    }),
  );

  return h(
    'article',
    { class: 'card', id: idFor('link', vendor), 'aria-labelledby': idFor('link-title', vendor) },
    h('h3', { id: idFor('link-title', vendor), text: name }),
    state,
    pageToken,
    h('div', { class: 'actions' }, bff, mediated),
    h('div', { class: 'actions' }, calls, renew, unlinkButton),
    result,
  );
}

/** What the vendor did with the tokens at unlink (RFC 7009), in words. */
function revocationWords(name: string, unlinked: Unlinked | undefined): string {
  switch (unlinked?.revocation) {
    case 'revoked':
      return `${name} revoked them too.`;
    case 'not_offered':
      return `${name} offers no revocation: its tokens end when they expire.`;
    case 'failed':
      return `${name} did not confirm that it revoked them.`;
    default:
      return '';
  }
}

async function unlinkVendor(vendor: string): Promise<Unlinked | undefined> {
  let tg: Core | undefined;
  try {
    tg = await core();
  } catch {
    tg = undefined;
  }
  if (tg) return tg.unlink(vendor);
  const response = await fetch(`/link/${encodeURIComponent(vendor)}/unlink`, { method: 'POST', headers: { ...CSRF, accept: 'application/json' } });
  const body = (await response.json().catch(() => undefined)) as (Unlinked & { error?: string }) | undefined;
  if (!response.ok) throw Object.assign(new Error(describeFailure(response.status, body, response.headers)), { code: body?.error });
  return body;
}

function renderLinkCards(vendors: VendorStatus[]): void {
  const linkable = vendors.filter((v) => v.linkable);
  const container = $('#link-cards');
  if (linkable.length === 0) {
    container.replaceChildren(h('p', { class: 'muted', text: 'No vendor is configured for account linking.' }));
    return;
  }
  container.replaceChildren(...linkable.map(linkCard));
  for (const v of linkable) void refreshLink(v.vendor);
}

/** Reads `GET /link/<vendor>/status` (the session) and this page's mediated token, and shows both. */
async function refreshLink(vendor: string): Promise<void> {
  const el = document.querySelector(`[data-link-state="${CSS.escape(vendor)}"]`);
  if (!el) return;
  try {
    const response = await fetch(`/link/${encodeURIComponent(vendor)}/status`, { headers: { accept: 'application/json' } });
    const body = (await response.json().catch(() => undefined)) as (LinkState & { error?: string }) | undefined;
    if (!response.ok) throw Object.assign(new Error(describeFailure(response.status, body, response.headers)), { code: body?.error });
    renderLinkState(vendor, body);
  } catch (error) {
    el.replaceChildren(h('span', { class: 'error-text', text: `Could not read the link status: ${describeError(error)}` }));
  }
  try {
    const tg = await core();
    pageTokens.set(vendor, await tg.mediatedStatus(vendor));
  } catch {
    // No bundle or no IndexedDB: the BFF side still works.
  }
  renderPageToken(vendor);
}

function renderLinkState(vendor: string, linked: LinkState | undefined): void {
  const el = document.querySelector(`[data-link-state="${CSS.escape(vendor)}"]`);
  if (!el) return;
  if (linked?.linked) {
    fill(
      el,
      h('span', { class: 'yes', text: 'Linked. ' }),
      'The Worker holds a token for your session',
      linked.expiresAt ? [', expiring in ', expiryCell(linked.expiresAt)] : null,
      '.',
      linked.lastError ? h('span', { class: 'error-text' }, ` Last error (${ago(linked.lastError.at)}): `, describeCode(linked.lastError.code, linked.lastError.message)) : null,
    );
  } else {
    el.replaceChildren(h('span', { class: 'no', text: 'Not linked. ' }), 'Link with one of the buttons below.');
  }
}

function renderPageToken(vendor: string): void {
  const el = document.querySelector<HTMLElement>(`[data-page-token="${CSS.escape(vendor)}"]`);
  const renew = document.querySelector<HTMLElement>(`[data-renew="${CSS.escape(vendor)}"]`);
  const page = pageTokens.get(vendor);
  if (!el) return;
  if (!page?.linked) {
    el.hidden = true;
    if (renew) renew.hidden = true;
    return;
  }
  el.hidden = false;
  if (renew) renew.hidden = false;
  fill(
    el,
    'This page’s access token (token-mediating, kept in IndexedDB, never shown): ',
    page.expiresAt ? ['expires in ', expiryCell(page.expiresAt, 'local')] : 'no expiry given',
    '.',
  );
}

// ---- sandbox controls -------------------------------------------------------------------------------------

function renderSandbox(vendors: VendorStatus[]): void {
  const section = $('#sandbox-section');
  if (!status?.sandbox) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const result = $('#sandbox-result');
  const cards = vendors
    .filter((v) => takesFaults(v.vendor))
    .map((v) => {
      const name = displayName(v.vendor);
      const buttons = FAULTS.map(([fault, label]) => {
        const button = h('button', { type: 'button', class: fault === 'revoke' ? 'danger' : fault === 'none' ? 'secondary' : undefined, 'aria-controls': 'sandbox-result' }, label, h('span', { class: 'visually-hidden', text: ` — ${name}` }));
        button.addEventListener('click', () => injectFault(v.vendor, fault, button, result));
        return button;
      });
      return h('article', { class: 'card', 'aria-labelledby': idFor('sandbox', v.vendor) }, h('h3', { id: idFor('sandbox', v.vendor), text: name }), h('div', { class: 'actions' }, buttons));
    });
  $('#sandbox-cards').replaceChildren(...cards);
}

async function injectFault(vendor: string, fault: string, button: HTMLElement, result: HTMLElement): Promise<void> {
  const count = Math.min(20, Math.max(1, Number($<HTMLInputElement>('#fault-count').value) || 1));
  const sandbox = status?.sandbox;
  if (!sandbox) return;
  await busy(button, result, 'Sending to the sandbox…', async () => {
    try {
      const response = await fetch(`${sandbox.origin}/_faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ vendor, fault, ...(FAULT_WORDS[fault] ? { count } : {}) }),
      });
      if (!response.ok) {
        const body = await response.json().catch(() => undefined);
        showInfo(result, describeFailure(response.status, body, response.headers), 'error');
        return;
      }
      const name = displayName(vendor);
      const words =
        fault === 'none'
          ? `${name}: fault cleared; token requests are answered normally.`
          : fault === 'revoke'
            ? `${name}: every token and pending code the sandbox issued is revoked. The next call makes the Worker get a new token.`
            : `${name}: the next ${count} token request${count === 1 ? '' : 's'} ${FAULT_WORDS[fault]}.`;
      showInfo(result, words);
    } catch (error) {
      showError(result, error);
    }
  });
  schedulePoll(0);
}

async function resetSandbox(): Promise<void> {
  const button = $('#sandbox-reset');
  const result = $('#sandbox-result');
  const current = status;
  if (!current?.sandbox) return;
  const sandbox = current.sandbox;
  await busy(button, result, 'Resetting…', async () => {
    try {
      const response = await fetch(`${sandbox.origin}/_reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (!response.ok) {
        const body = await response.json().catch(() => undefined);
        showInfo(result, describeFailure(response.status, body, response.headers), 'error');
        return;
      }
      // The Worker's side of a reset: each app credential starts over, a refused one included (the same
      // operator route production has; with the sandbox it needs no key).
      for (const v of current.vendors) {
        const reset = await fetch(`/reset/${encodeURIComponent(v.vendor)}`, { method: 'POST', headers: CSRF });
        if (!reset.ok) {
          const body = await reset.json().catch(() => undefined);
          showInfo(result, describeFailure(reset.status, body, reset.headers), 'error');
          return;
        }
      }
      showInfo(result, 'The sandbox forgot every token, code, fault and count, and the Worker dropped its app tokens: the next call of each vendor gets a new token.');
    } catch (error) {
      showError(result, error);
    }
  });
  schedulePoll(0);
}

// ---- the account-link notice (?linked=… / ?link_error=…) -----------------------------------------------

function showLinkNotice(): void {
  const params = new URLSearchParams(location.search);
  const linked = params.get('linked');
  const code = params.get('link_error');
  const vendor = params.get('vendor') ?? linked;
  if (!linked && !code) return;
  const notice = $('#notice');
  notice.dataset.vendor = vendor ?? '';
  const dismiss = h('button', { type: 'button', class: 'secondary' }, 'Dismiss');
  dismiss.addEventListener('click', () => {
    notice.hidden = true;
    $('#main').focus();
  });
  const name = vendor ? displayName(vendor) : 'the vendor';
  if (linked) {
    notice.className = 'notice success';
    fill(
      notice,
      h('h2', { tabindex: '-1', text: `Your ${name} account is linked` }),
      h('p', { text: 'The Worker keeps the tokens; this browser holds only an HttpOnly session cookie. Try “Call as me” below.' }),
      h('div', { class: 'actions' }, h('a', { class: 'button', href: `#${idFor('link', linked)}` }, 'Go to the account'), dismiss),
    );
  } else {
    notice.className = 'notice failure';
    const retry = vendor ? h('a', { class: 'button', href: `/link/${encodeURIComponent(vendor)}/start` }, 'Try again') : null;
    fill(
      notice,
      h('h2', { tabindex: '-1', text: code === 'access_denied' ? `You did not link ${name}` : `Linking ${name} did not work` }),
      h('p', { text: describeCode(code ?? undefined) }),
      h('p', { class: 'muted', text: `Error code: ${code}` }),
      h('div', { class: 'actions' }, retry, dismiss),
    );
  }
  notice.hidden = false;
  // The result is read once; a reload should not show it again.
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  notice.querySelector('h2')?.focus();
}

// ---- polling --------------------------------------------------------------------------------------------

let pollTimer: ReturnType<typeof setTimeout> | undefined;
let polling = false;

function schedulePoll(delay = POLL_MS): void {
  clearTimeout(pollTimer);
  if (document.visibilityState !== 'visible') return;
  pollTimer = setTimeout(poll, delay);
}

async function poll(): Promise<void> {
  if (polling) return;
  polling = true;
  const state = $('#worker-state');
  try {
    const response = await fetch('/status', { headers: { accept: 'application/json' }, cache: 'no-store' });
    const body = (await response.json().catch(() => undefined)) as StatusAnswer | undefined;
    if (!response.ok || !body || !Array.isArray(body.vendors)) {
      state.className = 'worker-state error';
      state.textContent = `The Worker answered /status with an error. ${describeFailure(response.status, body, response.headers)}`;
      return;
    }
    status = body;
    clockOffset = typeof body.now === 'number' ? body.now - Date.now() : 0;
    await loadSandboxStats();
    const names = `${Boolean(sandboxStats)}|${body.vendors.map((v) => `${v.vendor}:${v.routes.map((r) => `${r.method}${r.path}${r.access}`).join(',')}:${v.linkable}`).join('|')}`;
    if (names !== renderedVendors) {
      renderedVendors = names;
      renderVendorCards(body.vendors);
      renderLinkCards(body.vendors);
      renderSandbox(body.vendors);
    }
    renderLive(body.vendors);
    for (const v of body.vendors) if (v.linkable) renderLinkState(v.vendor, { linked: v.linked?.held === true, expiresAt: v.linked?.expiresAt, lastError: v.linked?.lastError });
    state.className = 'worker-state ok';
    state.textContent = `Worker is up · ${body.vendors.length} vendor${body.vendors.length === 1 ? '' : 's'} · sandbox ${body.sandbox ? 'on' : 'off'}`;
    $('#live-updated').textContent = `Last update ${new Date().toLocaleTimeString()}.`;
  } catch (error) {
    state.className = 'worker-state error';
    state.textContent = `The Worker did not answer. ${describeError(error)}`;
  } finally {
    polling = false;
    schedulePoll();
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') schedulePoll(0);
  else clearTimeout(pollTimer);
});

$('#sandbox-reset').addEventListener('click', () => void resetSandbox());
showLinkNotice();
setInterval(tick, 1000);
void poll();
