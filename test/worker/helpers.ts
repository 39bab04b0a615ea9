import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { parseKeyRing } from '../../worker/crypto.js';
import type { Env } from '../../worker/env.js';
import { storageStore } from '../../worker/storage-store.js';
import { coordinator } from '../../worker/token-cache.js';

/** The Worker under test, called in-process with real KV and Durable Object bindings. */
const worker = (exports as unknown as { default: { fetch(input: string | Request, init?: RequestInit): Promise<Response> } }).default;

/** PUBLIC_ORIGIN and the one allowed origin of the dev configuration (wrangler.toml). */
export const ORIGIN = 'http://127.0.0.1:8787';

/** Every answer the suite saw, for the leak scans. */
export const seen: { url: string; status: number; headers: [string, string][]; body: string }[] = [];

/** Calls the Worker and keeps a copy of the answer. */
export async function call(path: string, init: RequestInit & { headers?: Record<string, string> } = {}, base = ORIGIN): Promise<Response> {
  const response = await worker.fetch(`${base}${path}`, { redirect: 'manual', ...init });
  // Read the body here: an unread body holds its connection open, and hundreds of them stall the runtime.
  const body = await response.text();
  seen.push({ url: path, status: response.status, headers: [...response.headers], body });
  return new Response(response.status === 204 || response.status === 304 || response.status === 101 ? null : body, { status: response.status, headers: response.headers });
}

/** Headers of a same-origin browser call that passes the CSRF checks. */
export const browser = (extra: Record<string, string> = {}): Record<string, string> => ({ origin: ORIGIN, 'x-tokengate-csrf': '1', ...extra });

/** The vendor sandbox's own origin (its own `wrangler dev`, started by global-setup.ts). */
export const SANDBOX = (env as unknown as { SANDBOX_ORIGIN: string }).SANDBOX_ORIGIN;

export async function sandboxStats(): Promise<{ tokenRequests: Record<string, number>; refusedPolls: number; apiCalls: Record<string, number> }> {
  return (await (await fetch(`${SANDBOX}/_stats`)).json()) as never;
}

export async function echoCalls(): Promise<number> {
  return ((await (await fetch(`${SANDBOX}/_echo/count`)).json()) as { calls: number }).calls;
}

export async function fault(vendor: string, kind: string, extra: Record<string, unknown> = {}): Promise<void> {
  const response = await fetch(`${SANDBOX}/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor, fault: kind, ...extra }) });
  if (response.status !== 204) throw new Error(`fault not set: ${response.status}`);
}

export async function resetSandbox(): Promise<void> {
  const response = await fetch(`${SANDBOX}/_reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (response.status !== 204) throw new Error(`sandbox not reset: ${response.status}`);
}

/** Parses one Set-Cookie line into its name, value and attributes (lower-cased keys). */
export function parseSetCookie(line: string): { name: string; value: string; attributes: Map<string, string> } {
  const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const attribute of rest) {
    const at = attribute.indexOf('=');
    attributes.set((at === -1 ? attribute : attribute.slice(0, at)).toLowerCase(), at === -1 ? '' : attribute.slice(at + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

export function setCookies(response: Response): ReturnType<typeof parseSetCookie>[] {
  return response.headers.getSetCookie().map(parseSetCookie);
}

/** `name=value; …` for a Cookie header from parsed Set-Cookie lines. */
export const cookieHeader = (cookies: { name: string; value: string }[]): string => cookies.map((c) => `${c.name}=${c.value}`).join('; ');

/** Links Instacart the BFF way (start → callback) and answers the session's Cookie header. */
export async function linkBff(extra: Record<string, string> = {}): Promise<string> {
  const start = await call('/link/instacart/start', { headers: extra });
  if (start.status !== 303) throw new Error(`link start: ${start.status}`);
  const location = new URL(start.headers.get('location')!);
  const linkCookie = setCookies(start).find((c) => c.name === '__Host-tg_link')!;
  const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: cookieHeader([linkCookie]) } });
  if (callback.status !== 303) throw new Error(`link callback: ${callback.status}`);
  return cookieHeader(setCookies(callback).filter((c) => c.name === '__Host-tg_session'));
}

/** A production-style Instabox vendor entry (its real API, a client id, the secret's name), fresh each call. */
export function instaboxVendor(routes: { method: string; path: string; access: string }[] = [{ method: 'GET', path: '/v2/orders', access: 'public' }]): Record<string, unknown> {
  return { profile: 'instabox', options: { clientId: 'id' }, secrets: { clientSecret: 'INSTABOX_CLIENT_SECRET' }, routes };
}

/**
 * BFF-links the standard OAuth 2.0 server through its consent page (as a shopper pressing Allow). With
 * `session` (a Cookie header naming a linked session), the start carries it: a re-link of that session.
 * Answers the session's Cookie header and where the callback sent the browser.
 */
export async function linkOauth2(session?: string): Promise<{ cookie: string; location: string }> {
  const start = await call('/link/oauth2/start', { headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', ...(session === undefined ? {} : { cookie: session }) } });
  if (start.status !== 303) throw new Error(`link start: ${start.status}`);
  const authorize = new URL(start.headers.get('location')!);
  const linkCookie = cookieHeader(setCookies(start).filter((c) => c.name === '__Host-tg_link'));
  const consent = await fetch(authorize, { method: 'POST', redirect: 'manual', body: new URLSearchParams([...authorize.searchParams, ['decision', 'allow']]) });
  if (consent.status !== 303) throw new Error(`consent: ${consent.status}`);
  const back = new URL(consent.headers.get('location')!);
  const callback = await call(`${back.pathname}${back.search}`, { headers: { cookie: [linkCookie, session].filter(Boolean).join('; ') } });
  if (callback.status !== 303) throw new Error(`link callback: ${callback.status}`);
  return { cookie: cookieHeader(setCookies(callback).filter((c) => c.name === '__Host-tg_session')), location: callback.headers.get('location')! };
}

/** A session's linked token set at `vendor`, read from its Durable Object the way the Worker reads it. */
export async function heldTokens(cookie: string, vendor = 'oauth2'): Promise<{ accessToken: string; refreshToken?: string } | undefined> {
  const session = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  const bindings = env as unknown as Env & { TOKENGATE_KEYS: string };
  return runInDurableObject(await coordinator(bindings, { kind: 'session', vendor, session }), (_instance, state) => storageStore(state.storage, parseKeyRing(bindings.TOKENGATE_KEYS)).get(`tokens:${vendor}`));
}

/** The standard server's introspection (RFC 7662) of `token`, asked with the Worker's client credentials. */
export async function introspect(token: string): Promise<{ active: boolean }> {
  const secret = (env as unknown as Record<string, string>)['OAUTH2_CLIENT_SECRET']!;
  const answer = await fetch(`${SANDBOX}/oauth2/introspect`, {
    method: 'POST',
    headers: { authorization: `Basic ${btoa(`sandbox-oauth2-client:${secret}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return (await answer.json()) as { active: boolean };
}

/** The cookies an answer sets, as a Cookie header to send back (cleared ones left out). */
export function cookieHeaderOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .filter((pair) => !pair.endsWith('='))
    .join('; ');
}

/** A strong operator key for a Worker outside loopback: 32 random bytes, base64url, with a canary prefix. */
export function operatorKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `operator-key-canary-${btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}
