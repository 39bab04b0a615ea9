import { describe, expect, it } from 'vitest';
import { floodUntilLimited } from '../helpers/flood.js';
import { browser, call, echoCalls, fault, ORIGIN, sandboxStats, seen } from './helpers.js';

/** A browser call from the i-th of many shoppers. */
const shopper = (i: number): Record<string, string> => browser({ 'cf-connecting-ip': `192.0.2.${i % 250}`, 'x-request-id': String(i) });

// The Worker's API proxy in workerd, with its real KV and Durable Object bindings, in front of the
// vendor sandbox on its own origin (docs/security.md rows 9–12, 14 and the concurrency rules).

describe('proxying a vendor API', () => {
  it('answers health checks', async () => {
    const response = await call('/healthz');
    await expect(response.json()).resolves.toEqual({ ok: true, service: 'tokengate' });
  });

  it('forwards an allow-listed call with the vendor token and answers like the vendor', async () => {
    const response = await call('/api/instabox/v2/orders', { headers: browser() });
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toMatchObject({ status: 'OK', orders: expect.any(Array) });
  });

  it('200 concurrent calls on a cold cache make 1 upstream token request', async () => {
    const before = await sandboxStats();
    // 200 shoppers at once (distinct callers, so the per-caller rate limit is not what is measured).
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => call('/api/shopware/api/v3/product/b7d2554b0ce847cd82f3ac9bd1c0dfad', { headers: shopper(i) })));
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    const after = await sandboxStats();
    expect(after.tokenRequests['shopware']! - before.tokenRequests['shopware']!).toBe(1);
  });

  it('instellix: 200 concurrent calls, one token request, no refused poll', async () => {
    const before = await sandboxStats();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => call('/api/instellix/api/v1/shipments', { headers: shopper(i) })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const after = await sandboxStats();
    expect(after.tokenRequests['instellix']! - before.tokenRequests['instellix']!).toBe(1);
    expect(after.refusedPolls).toBe(0);
  });
});

describe('no open proxy (row 10)', () => {
  const tricks = [
    '/api/echo/http://evil.example/headers',
    '/api/echo//evil.example/headers',
    '/api/echo/headers%2f..%2fx',
    '/api/echo/%2e%2e/headers',
    '/api/echo/.%2e/headers',
    '/api/echo/headers%5cx',
    '/api/echo/head@ers',
    '/api/echo/headers%40evil.example',
    '/api/echo/headers/%00',
    '/api/echo/other',
    '/api/echo/headers/extra',
    '/api/nope/headers',
  ];
  for (const trick of tricks) {
    it(`refuses ${trick} without calling upstream`, async () => {
      const before = await echoCalls();
      const response = await call(trick, { headers: browser() });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(await echoCalls()).toBe(before);
    });
  }

  it('refuses a method the allowlist does not have (405 with Allow)', async () => {
    const response = await call('/api/echo/headers', { method: 'DELETE', headers: browser() });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toContain('GET');
  });

  it('does not follow an upstream redirect to another host, and drops its cookie', async () => {
    const response = await call('/api/echo/redirect', { headers: browser() });
    expect(response.status).toBe(502);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    await expect(response.json()).resolves.toMatchObject({ error: 'upstream_redirect' });
  });
});

describe('header hygiene (row 11)', () => {
  it("the caller's credentials never go upstream and upstream cookies never come back", async () => {
    const response = await call('/api/echo/headers', {
      headers: browser({
        cookie: '__Host-tg_session=stolen; other=1',
        authorization: 'Bearer caller-token',
        'proxy-authorization': 'Basic cHJveHk6cHc=',
        'x-forwarded-for': '203.0.113.9',
        forwarded: 'for=203.0.113.9',
        'cf-connecting-ip': '203.0.113.9',
        'x-custom': 'nope',
        accept: 'application/json',
      }),
    });
    expect(response.status).toBe(200);
    const echoed = (await response.json()) as { headers: Record<string, string> };
    const names = Object.keys(echoed.headers);
    for (const banned of ['cookie', 'proxy-authorization', 'x-forwarded-for', 'forwarded', 'x-custom', 'origin', 'x-tokengate-csrf']) {
      expect(names).not.toContain(banned);
    }
    // The sandbox's own runtime sets cf-connecting-ip on arrival, as Cloudflare in front of a vendor
    // would: to the Worker's address, never the caller's.
    expect(JSON.stringify(echoed.headers)).not.toContain('203.0.113.9');
    expect(echoed.headers['authorization']).toBe('Bearer …'); // the vendor token, not the caller's
    expect(echoed.headers['accept']).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe('browser calls: exact Origin and the CSRF header (row 9)', () => {
  it('a POST from a foreign origin, or without the header, gets 403 and the upstream is never called', async () => {
    const before = await echoCalls();
    const foreign = await call('/api/echo/headers', { method: 'POST', headers: { origin: 'https://evil.example', 'x-tokengate-csrf': '1', 'content-type': 'application/json' }, body: '{}' });
    const lookalike = await call('/api/echo/headers', { method: 'POST', headers: { origin: `${ORIGIN}.evil.example`, 'x-tokengate-csrf': '1' }, body: '{}' });
    const noHeader = await call('/api/echo/headers', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: '{}' });
    const cookieOnly = await call('/api/echo/headers', { method: 'POST', headers: { cookie: 'a=b' }, body: '{}' });
    for (const response of [foreign, lookalike, noHeader, cookieOnly]) expect(response.status).toBe(403);
    expect(await echoCalls()).toBe(before);
  });

  it('a same-origin POST with the header goes through', async () => {
    const response = await call('/api/echo/headers', { method: 'POST', headers: browser({ 'content-type': 'application/json' }), body: '{"sku":"A-1"}' });
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toMatchObject({ method: 'POST', bodyLength: 13 });
  });
});

describe('CORS (row 12)', () => {
  it('a listed origin gets exactly itself, with credentials and Vary: Origin', async () => {
    const response = await call('/api/instabox/v2/orders', { headers: browser() });
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('vary')).toMatch(/Origin/);
  });

  it('a foreign origin gets no Access-Control-Allow-Origin', async () => {
    const preflight = await call('/api/instabox/v2/orders', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const get = await call('/api/instabox/v2/orders', { headers: { origin: 'https://evil.example', 'x-tokengate-csrf': '1' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    expect(get.headers.get('vary')).toMatch(/Origin/);
  });

  it('a listed origin passes the preflight', async () => {
    const preflight = await call('/api/instabox/v2/orders', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-tokengate-csrf' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });
});

describe('rate limits (row 14)', () => {
  it('the N+1th call of one caller gets 429 with Retry-After', async () => {
    // RL_CALLER in wrangler.toml: 120 calls a minute per caller and vendor.
    const { limited, passed } = await floodUntilLimited(300, () => call('/api/instabox/v2/orders', { headers: browser({ 'cf-connecting-ip': '198.51.100.14' }) }));
    expect(limited).toBeDefined();
    expect(passed.length).toBeLessThanOrEqual(120);
    expect(passed.every((s) => s === 200)).toBe(true);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another caller is not affected.
    expect((await call('/api/instabox/v2/orders', { headers: browser({ 'cf-connecting-ip': '198.51.100.15' }) })).status).toBe(200);
  }, 90_000);

  it("a vendor's 429 is passed on with its Retry-After", async () => {
    const response = await call('/api/echo/ratelimited?retry_after=2', { headers: browser() });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
  });
});

describe('bad input loses nothing (row 17)', () => {
  it('a vendor outage on the token endpoint is a clear error, and the cached token survives', async () => {
    expect((await call('/api/eshopbox/api/v1/orders', { headers: browser() })).status).toBe(200);
    await fault('eshopbox', 'html', { count: 10 });
    // The cached token still serves.
    expect((await call('/api/eshopbox/api/v1/orders', { headers: browser() })).status).toBe(200);
    await fault('eshopbox', 'none');
  });
});

describe('leaks (row 13)', () => {
  it('no answer of this suite carries a sandbox secret or a refresh token', () => {
    expect(seen.length).toBeGreaterThan(50);
    for (const answer of seen) {
      const text = `${answer.body} ${answer.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}`;
      expect(text).not.toContain('sandbox-secret');
      expect(text).not.toMatch(/refresh_token/);
    }
  });
});
