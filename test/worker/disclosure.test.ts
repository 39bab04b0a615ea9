import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker from '../../worker/index.js';
import { generateKeyRingSecret } from '../../worker/crypto.js';
import { browser, call, instaboxVendor, operatorKey, ORIGIN } from './helpers.js';

// What the Worker tells the public: a broken configuration only that it is broken, /status only to an
// operator outside the sandbox, preflights only for allow-listed method + path pairs (docs/security.md row 27).

const real = env as unknown as Record<string, unknown>;
/** A strong operator key and key ring of this run: outside loopback a weak or published one is refused. */
const OPERATOR_KEY = operatorKey();

/** The Worker as deployed: no sandbox, a public origin, one vendor, an operator key. */
function production(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...real,
    SANDBOX_ORIGIN: undefined,
    PUBLIC_ORIGIN: 'https://edge.example',
    ALLOWED_ORIGINS: ['https://shop.example'],
    TOKENGATE_API_KEY: OPERATOR_KEY,
    TOKENGATE_KEYS: generateKeyRingSecret(),
    VENDORS: { instabox: instaboxVendor([{ method: 'GET', path: '/v2/orders', access: 'public' }, { method: 'POST', path: '/v2/orders', access: 'key' }]) },
    ...extra,
  };
}

const send = (path: string, environment: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> =>
  worker.fetch(new Request(`https://edge.example${path}`, { headers }), environment as never);

describe('what the Worker discloses (row 27)', () => {
  it('a broken configuration answers 500 without naming a secret; the log names it', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const answer = await send('/api/instabox/v2/orders', production({ INSTABOX_CLIENT_SECRET: undefined, TOKENGATE_KEYS: undefined }));
      expect(answer.status).toBe(500);
      const text = await answer.text();
      expect(JSON.parse(text)).toMatchObject({ error: 'configuration_error' });
      for (const name of ['INSTABOX_CLIENT_SECRET', 'TOKENGATE_KEYS', 'VENDORS', 'secret']) expect(text).not.toContain(name);
    } finally {
      spy.mockRestore();
    }
    expect(lines.join('\n')).toContain('INSTABOX_CLIENT_SECRET');
    expect(lines.join('\n')).toContain('TOKENGATE_KEYS');
  });

  it('/status without the key in production is 401', async () => {
    for (const headers of [{}, { origin: 'https://shop.example', 'x-tokengate-csrf': '1' }, { 'x-tokengate-key': `${OPERATOR_KEY}x` }]) {
      const answer = await send('/status', production(), headers);
      expect(answer.status).toBe(401);
      expect(await answer.text()).not.toContain('/v2/orders');
    }
    const operator = await send('/status', production(), { 'x-tokengate-key': OPERATOR_KEY });
    expect(operator.status).toBe(200);
    await expect(operator.json()).resolves.toMatchObject({ vendors: [{ vendor: 'instabox' }] });
  });

  it('with the local sandbox, /status serves the demo panel', async () => {
    expect((await call('/status')).status).toBe(200);
  });

  it('a non-loopback Host on a sandbox Worker gets 401: /status and POST /reset need the key (row 27)', async () => {
    // The development configuration (loopback SANDBOX_ORIGIN and PUBLIC_ORIGIN), reached by a public name.
    const at = (path: string, init: RequestInit = {}): Promise<Response> => worker.fetch(new Request(`https://tokengate.acme.workers.dev${path}`, init), real as never);
    for (const headers of [{}, browser()]) {
      const status = await at('/status', { headers });
      expect(status.status).toBe(401);
      expect(await status.text()).not.toContain('/v2/orders');
      expect((await at('/reset/instabox', { method: 'POST', headers })).status).toBe(401);
    }
    const key = { 'x-tokengate-key': String(real['TOKENGATE_API_KEY']) };
    expect((await at('/status', { headers: key })).status).toBe(200);
    expect((await at('/reset/instabox', { method: 'POST', headers: key })).status).toBe(200);
    // On the loopback host the sandbox exception still holds, for a same-origin call.
    expect((await call('/reset/instabox', { method: 'POST', headers: browser() })).status).toBe(200);
  });

  it('preflights only for allow-listed method + path pairs', async () => {
    const ask = (path: string, method: string): Promise<Response> =>
      call(path, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'x-tokengate-csrf' } });
    const allowed = await ask('/api/instabox/v2/orders', 'POST');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST');
    // GET is all /api/v1/shipments has; another path of the vendor has nothing; a trick path nothing.
    expect((await ask('/api/instellix/api/v1/shipments', 'POST')).status).toBe(403);
    expect((await ask('/api/instabox/v2/anything', 'GET')).status).toBe(403);
    expect((await ask('/api/instabox/v2/orders/..%2f..%2fadmin', 'GET')).status).toBe(403);
    expect((await ask('/api/instellix/api/v1/shipments', 'GET')).headers.get('access-control-allow-methods')).toBe('GET, HEAD');
    expect((await call('/api/instabox/v2/orders', { headers: browser() })).status).toBe(200);
  });
});
