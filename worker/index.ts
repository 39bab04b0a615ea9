import { ErrorCode } from 'tokengate';

interface Env {
  ASSETS: { fetch(request: Request): Promise<Response> };
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === '/healthz') return json({ ok: true, service: 'tokengate' });
    if (pathname.startsWith('/api/') || pathname.startsWith('/link/') || pathname.startsWith('/token/') || pathname.startsWith('/sandbox/')) {
      return json({ error: 'not_found', code: ErrorCode.INVALID_CONFIG, message: 'No vendor is configured for this route yet' }, 404);
    }
    return env.ASSETS.fetch(request);
  },
};
