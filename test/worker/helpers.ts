import { env, exports } from 'cloudflare:workers';

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

/** A strong operator key for a Worker outside loopback: 32 random bytes, base64url, with a canary prefix. */
export function operatorKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `operator-key-canary-${btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}
