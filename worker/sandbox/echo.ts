import { json } from './http.js';

/**
 * `/_echo/*`: a stand-in upstream that answers what reached it, so tests and the demo can see exactly
 * which headers the Worker's proxy forwards. The bearer token is reported by its scheme only: an echo
 * must not hand the vendor token back to the caller. `/_echo/redirect` answers a 302 to another host,
 * which the proxy must not follow; `/_echo/ratelimited` a 429 with Retry-After; `/_echo/count` how many
 * requests reached the echo (itself not counted).
 */
let calls = 0;

export async function echo(request: Request, path: string): Promise<Response> {
  if (path === '/_echo/count') return json({ calls });
  calls++;
  if (path === '/_echo/ratelimited') return json({ error: 'rate_limited' }, 429, { 'retry-after': '7' });
  if (path === '/_echo/redirect') {
    return new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/steal', 'set-cookie': 'upstream=1; Path=/' } });
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = name === 'authorization' ? value.replace(/^(\S+)\s.*$/, '$1 …') : value;
  const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
  return json({ method: request.method, path, query: new URL(request.url).search, headers, bodyLength: body.length }, 200, { 'set-cookie': 'upstream-session=1; Path=/' });
}
