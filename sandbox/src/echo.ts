import { json } from './http.js';
import { instaboxToken } from './instabox.js';
import type { Route } from './route.js';
import type { SandboxState } from './state.js';
import { ECHO_SERVER } from './types.js';

/** The one version of `/_echo/etag`. */
const ETAG = '"echo-v1"';

/**
 * `/_echo/*`: a stand-in upstream that answers what reached it, so tests and the demo can see exactly
 * which headers the Worker's proxy forwards. The bearer token is reported by its scheme only: an echo
 * must not hand the vendor token back to the caller. `/_echo/redirect` answers a 302 to another host,
 * which the proxy must not follow; `/_echo/ratelimited?retry_after=` a 429 with Retry-After; `/_echo/unauthorized` a 401
 * to every token (an upstream that refuses what its token endpoint issued); `/_echo/slow?ms=` answers
 * late (up to 30 s); `/_echo/etag` answers 304 to a matching If-None-Match; `/_echo/count` how many
 * requests reached the echo (itself not counted). A Cookie header is reported by its length only: the
 * echo shows whether the proxy forwarded one, and reflects no browser's cookie to a page script.
 */
export async function echo(state: SandboxState, request: Request, path: string): Promise<Response> {
  if (path === '/_echo/count') return json({ calls: state.echoCalls });
  state.echoCalls++;
  if (path === '/_echo/ratelimited') {
    // `?retry_after=` (1 to 60 s, default 7): how long the vendor asks every caller to wait.
    const seconds = Math.min(60, Math.max(1, Math.floor(Number(new URL(request.url).searchParams.get('retry_after') ?? 7)) || 7));
    return json({ error: 'rate_limited' }, 429, { 'retry-after': String(seconds) });
  }
  if (path === '/_echo/slow') {
    // An upstream that takes its time: `?ms=` (at most 30 s) before it answers.
    const ms = Math.min(30_000, Math.max(0, Number(new URL(request.url).searchParams.get('ms') ?? 30_000) || 0));
    await new Promise((resolve) => setTimeout(resolve, ms));
    return json({ slept: ms });
  }
  if (path === '/_echo/etag') {
    // A conditional GET (RFC 9110 §13.1.2): the current representation's ETag matches → 304 with its validators.
    const validators = { etag: ETAG, 'cache-control': 'private, max-age=60' };
    if (request.headers.get('if-none-match') === ETAG) return new Response(null, { status: 304, headers: validators });
    return json({ version: 1 }, 200, validators);
  }
  if (path === '/_echo/unauthorized') return json({ error: 'invalid_token' }, 401, { 'www-authenticate': 'Bearer error="invalid_token"' });
  if (path === '/_echo/redirect') {
    return new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/steal', 'set-cookie': 'upstream=1; Path=/' } });
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) {
    headers[name] = name === 'authorization' ? value.replace(/^(\S+)\s.*$/, '$1 …') : name === 'cookie' ? `(${value.length} characters)` : value;
  }
  const body = request.method === 'GET' || request.method === 'HEAD' ? '' : new TextDecoder().decode(await request.arrayBuffer());
  return json({ method: request.method, path, query: new URL(request.url).search, headers, bodyLength: body.length }, 200, { 'set-cookie': 'upstream-session=1; Path=/' });
}

/**
 * `POST /_echo/token`: the demo's Echo vendor gets its tokens here, in Instabox's dialect with Instabox's
 * demo credentials, counted as `echo` so Instabox's counters are Instabox's alone.
 */
export const echoRoutes: readonly Route[] = [{ vendor: ECHO_SERVER, kind: 'token', pattern: /^\/_echo\/token$/, methods: ['POST'], handle: instaboxToken }];
