/**
 * The baseline for the edge bench: the least a Worker can do to front the same upstream. One route,
 * `GET /api/bench/v2/orders`, forwarded to `${UPSTREAM}/api/v2/orders` with a bearer token obtained
 * once per isolate (client credentials) and kept in a module variable. No allowlist, no CORS, no CSRF,
 * no rate limit, no header hygiene, no KV, no Durable Object, no log line: everything the real Worker
 * does beyond this is what the bench measures. With `LOG = "1"` it writes the one JSON line per call
 * that the real Worker writes (worker/log.ts), so the bench can tell that line's cost from the rest.
 */
interface Env {
  UPSTREAM: string;
  CLIENT_ID: string;
  CLIENT_SECRET: string;
  LOG?: string;
}

let token: Promise<string> | undefined;

async function fetchToken(env: Env): Promise<string> {
  const answer = await fetch(`${env.UPSTREAM}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa(`${env.CLIENT_ID}:${env.CLIENT_SECRET}`)}` },
    body: 'grant_type=client_credentials',
  });
  const body = (await answer.json()) as { access_token?: unknown };
  if (!answer.ok || typeof body.access_token !== 'string') throw new Error(`token request answered ${answer.status}`);
  return body.access_token;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return Response.json({ ok: true, service: 'passthrough' });
    if (request.method !== 'GET' || url.pathname !== '/api/bench/v2/orders') return new Response('Not found', { status: 404 });
    token ??= fetchToken(env).catch((error: unknown) => {
      token = undefined;
      throw error;
    });
    const started = Date.now();
    const upstream = await fetch(`${env.UPSTREAM}/api/v2/orders${url.search}`, {
      headers: { authorization: `Bearer ${await token}`, accept: 'application/json' },
      redirect: 'manual',
    });
    if (env.LOG === '1') {
      console.log(JSON.stringify({ t: new Date().toISOString(), at: 'api', vendor: 'bench', method: 'GET', path: '/v2/orders', status: upstream.status, ms: Date.now() - started }));
    }
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  },
};
