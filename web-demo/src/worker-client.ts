/**
 * The Worker's browser-facing routes, without any of the core: what a page needs in BFF mode, where the
 * Worker runs the whole flow and keeps every token. The storefront embed loads only this up front and
 * fetches the token-mediating code (./mediated.ts, the core with it) when a page first uses that mode.
 *
 * The Worker may be this page's own origin, another origin of the same site (`https://edge.shop.example`
 * for a page on `https://shop.example`), or a base path of this host (`/tokengate`): every URL is built
 * with {@link workerUrl}, and every call sends credentials, so the session cookie rides along in each case.
 */
import { TokenGateError } from '../../src/errors.ts';

/** The custom header every state-changing or API call carries (docs/security.md row 9). */
export const CSRF = { 'x-tokengate-csrf': '1' } as const;

/** Where the Worker is: '' (this page's origin, at its root), or an origin and/or base path, without a trailing `/`. */
let base = '';

/**
 * Tells the browser half where the Worker is: `https://edge.shop.example`, `/tokengate`, or
 * `https://shop.example/tokengate`. A URL with a query, a fragment or credentials is refused.
 */
export function setWorkerBase(value: string): void {
  const url = new URL(value, location.href);
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TokenGateError('ERR_WORKER_URL', 'The Worker is named by an http(s) origin, optionally with a base path, and nothing else');
  }
  const path = url.pathname.replace(/\/+$/, '');
  base = url.origin === location.origin ? path : `${url.origin}${path}`;
}

/** The Worker's URL for one of its routes (`/link/instacart/status`). */
export function workerUrl(path: string): string {
  return `${base}${path}`;
}

/** The Worker's origin (this page's, unless it was told another). */
export function workerOrigin(): string {
  return new URL(workerUrl('/'), location.href).origin;
}

/** Every call to the Worker: with credentials, so its session cookie comes along from a sibling host too. */
export function workerFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(workerUrl(path), { ...init, credentials: 'include' });
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

/** A Worker error answer as a TokenGateError carrying its code (`{error, message, reason?}` or RFC 6749). */
export async function failure(response: Response, what: string): Promise<TokenGateError> {
  const body = (await readJson(response)) as Record<string, unknown> | undefined;
  const code = typeof body?.['reason'] === 'string' ? body['reason'] : typeof body?.['error'] === 'string' ? body['error'] : 'ERR_HTTP_STATUS';
  const message = typeof body?.['message'] === 'string' ? body['message'] : `${what} answered HTTP ${response.status}`;
  return new TokenGateError(code, message, { status: response.status });
}

/** What the Worker's unlink did at the vendor (RFC 7009): see the Worker's `UnlinkOutcome`. */
export interface Unlinked {
  revocation: 'revoked' | 'not_offered' | 'nothing_to_revoke' | 'failed';
  message?: string;
}

/** Asks the Worker to unlink this browser's session at a vendor (it drops the refresh token, and asks the vendor to revoke it). */
export async function unlinkSession(vendor: string): Promise<Unlinked> {
  const response = await workerFetch(`/link/${encodeURIComponent(vendor)}/unlink`, { method: 'POST', headers: { ...CSRF, accept: 'application/json' } });
  if (!response.ok) throw await failure(response, 'Unlinking');
  return response.json();
}

/**
 * Starts a BFF link from this page: `POST /link/<vendor>/start` (listed Origin + CSRF header) answers
 * where to send the browser; the Worker comes back to `returnTo` afterwards.
 */
export async function startBffLink(vendor: string, returnTo: string): Promise<string> {
  const response = await workerFetch(`/link/${encodeURIComponent(vendor)}/start?return_to=${encodeURIComponent(returnTo)}`, { method: 'POST', headers: { ...CSRF, accept: 'application/json' } });
  if (!response.ok) throw await failure(response, 'Starting the link');
  const { url } = (await response.json()) as { url: string };
  return url;
}

/** The Worker's view of this browser's linked session: `GET /link/<vendor>/status`. */
export async function linkStatus(vendor: string): Promise<{ vendor: string; linked: boolean; expiresAt?: number; tokenRequests?: number; lastError?: { code: string; message: string; at: number } }> {
  const response = await workerFetch(`/link/${encodeURIComponent(vendor)}/status`, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await failure(response, 'The link status');
  return response.json();
}

/** Why this page cannot keep a session with the Worker, or undefined when it can. */
export type SessionProblem = { code: 'cross_site_worker' | 'worker_unreachable'; message: string };

let probed: Promise<SessionProblem | undefined> | undefined;

/**
 * Whether this page can keep a session with the Worker, asked once per page. On the Worker's own
 * origin it always can. Elsewhere, two credentialed `GET /session/probe`: the first sets a cookie with
 * the session cookie's attributes, the second says whether it came back. It does not when the Worker
 * is on another site (SameSite, third-party cookie blocking): linking could never work from this page.
 */
export function probeSession(): Promise<SessionProblem | undefined> {
  if (workerOrigin() === location.origin) return Promise.resolve(undefined);
  probed ??= (async (): Promise<SessionProblem | undefined> => {
    const ask = async (): Promise<boolean> => {
      const response = await workerFetch('/session/probe', { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return ((await response.json()) as { cookie?: unknown }).cookie === true;
    };
    try {
      if ((await ask()) || (await ask())) return undefined;
    } catch {
      return { code: 'worker_unreachable', message: `This page cannot reach tokengate at ${workerOrigin()}: the Worker does not list this page's origin (ALLOWED_ORIGINS), or it is down.` };
    }
    return { code: 'cross_site_worker', message: `Account linking cannot work on this page: tokengate runs at ${workerOrigin()}, another site than this page's, and browsers do not keep its sign-in cookie there. Serve tokengate from this shop's own site: a sibling host (edge.shop.example for shop.example) or a path of this host.` };
  })();
  return probed;
}

/** Calls a fronted API through the Worker with the CSRF header; the session cookie rides along. */
export function call(vendor: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('x-tokengate-csrf', '1');
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  const suffix = path.startsWith('/') ? path : `/${path}`;
  return workerFetch(`/api/${encodeURIComponent(vendor)}${suffix}`, { ...init, headers });
}
