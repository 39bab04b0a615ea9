import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { TokenCoordinator } from '../../worker/coordinator.js';
import type { Config } from '../../worker/config.js';
import { operatorAccess } from '../../worker/routes/status.js';
import { browser, call, fault, resetSandbox, sandboxStats } from './helpers.js';

// The token cache and its coordinator: isolate memory → KV → Durable Object; 401s renew once.
const kv = (env as unknown as { TOKENS: KVNamespace }).TOKENS;
const shopper = (i: number): Record<string, string> => browser({ 'cf-connecting-ip': `192.0.2.${i % 250}` });

describe('coordination', () => {
  it('publishes a sealed access token to KV, never the refresh token or a secret', async () => {
    expect((await call('/api/eshopbox/api/v1/orders', { headers: browser() })).status).toBe(200);
    const raw = await kv.get('tok:app:eshopbox', 'text');
    expect(raw).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(raw).not.toContain('sandbox-secret');
    expect(raw).not.toContain('refresh');
  });

  it('a revoked token: 50 concurrent calls see 401 upstream, make one renewal, and all succeed', async () => {
    expect((await call('/api/instabox/v2/orders', { headers: browser() })).status).toBe(200);
    await fault('instabox', 'revoke');
    const before = (await sandboxStats()).tokenRequests['instabox']!;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => call('/api/instabox/v2/orders', { headers: shopper(i) })));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect((await sandboxStats()).tokenRequests['instabox']! - before).toBe(1);
  });

  it('a tampered KV value reads as a miss and costs no token request', async () => {
    expect((await call('/api/instellix/api/v1/shipments', { headers: browser() })).status).toBe(200);
    const raw = (await kv.get('tok:app:instellix', 'text'))!;
    const flipped = raw.slice(0, -3) + (raw.at(-3) === 'A' ? 'B' : 'A') + raw.slice(-2);
    await kv.put('tok:app:instellix', flipped);
    const before = await sandboxStats();
    expect((await call('/api/instellix/api/v1/shipments', { headers: browser() })).status).toBe(200);
    const after = await sandboxStats();
    expect(after.tokenRequests['instellix']).toBe(before.tokenRequests['instellix']);
    expect(after.refusedPolls).toBe(0);
  });

  it('a vendor outage at the token endpoint answers a clear 503 and loses nothing', async () => {
    await fault('shopware', 'revoke');
    await fault('shopware', '5xx', { count: 10 });
    const outage = await call('/api/shopware/api/v3/product/b7d2554b0ce847cd82f3ac9bd1c0dfad', { headers: browser({ 'cf-connecting-ip': '192.0.2.251' }) });
    expect(outage.status).toBe(503);
    await expect(outage.json()).resolves.toMatchObject({ error: 'token_unavailable', message: expect.stringContaining('shopware token endpoint') });
    await fault('shopware', 'none');
    const recovered = await call('/api/shopware/api/v3/product/b7d2554b0ce847cd82f3ac9bd1c0dfad', { headers: browser({ 'cf-connecting-ip': '192.0.2.252' }) });
    expect(recovered.status).toBe(200);
  });
});

describe('a refused app refresh token is terminal (row 6)', () => {
  it('Eshopbox: after revocation, calls answer 503 without hammering the token endpoint', async () => {
    expect((await call('/api/eshopbox/api/v1/orders', { headers: browser() })).status).toBe(200);
    await fault('eshopbox', 'revoke');
    const before = (await sandboxStats()).tokenRequests['eshopbox']!;
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await call('/api/eshopbox/api/v1/orders', { headers: shopper(i) }));
    expect(answers.every((a) => a.status === 503)).toBe(true);
    await expect(answers[0]!.json()).resolves.toMatchObject({ reason: 'ERR_LINK_REQUIRED' });
    // One refused refresh, then nothing: no retry of a dead refresh token.
    expect((await sandboxStats()).tokenRequests['eshopbox']! - before).toBe(1);
  });
});

describe('reset means reset: a refused app credential comes back only by an operator action', () => {
  it('Eshopbox: revoked, the sandbox reset, still refused (no retry of its own), then POST /reset/eshopbox → works with one token request', async () => {
    // The test above left Eshopbox refused: start from a working one.
    await resetSandbox();
    expect((await call('/reset/eshopbox', { method: 'POST', headers: browser() })).status).toBe(200);
    expect((await call('/api/eshopbox/api/v1/orders', { headers: browser() })).status).toBe(200);
    await fault('eshopbox', 'revoke');
    expect((await call('/api/eshopbox/api/v1/orders', { headers: shopper(1) })).status).toBe(503);
    await resetSandbox();
    // The vendor would accept the app token again, but the Worker does not poll a refused credential.
    expect((await call('/api/eshopbox/api/v1/orders', { headers: shopper(2) })).status).toBe(503);
    expect((await sandboxStats()).tokenRequests['eshopbox']).toBe(0);
    const status = (await (await call('/status')).json()) as { vendors: { vendor: string; app: { cached: boolean } }[] };
    expect(status.vendors.find((v) => v.vendor === 'eshopbox')?.app.cached).toBe(false);

    // Cross-site, or without the CSRF header, the reset is refused and changes nothing.
    expect((await call('/reset/eshopbox', { method: 'POST', headers: { origin: 'https://attacker.example', 'x-tokengate-csrf': '1' } })).status).toBe(403);
    expect((await call('/reset/eshopbox', { method: 'POST', headers: { origin: browser().origin! } })).status).toBe(403);
    expect((await call('/api/eshopbox/api/v1/orders', { headers: shopper(3) })).status).toBe(503);

    const reset = await call('/reset/eshopbox', { method: 'POST', headers: browser() });
    expect(reset.status).toBe(200);
    const answers = [];
    for (let i = 4; i < 9; i++) answers.push((await call('/api/eshopbox/api/v1/orders', { headers: shopper(i) })).status);
    expect(answers).toEqual([200, 200, 200, 200, 200]);
    expect((await sandboxStats()).tokenRequests['eshopbox']).toBe(1);
  });

  it('outside the sandbox the operator routes need X-Tokengate-Key (row 27)', () => {
    const production = { sandboxOrigin: undefined, allowedOrigins: ['https://shop.example'], apiKey: 'operator-key-canary' } as unknown as Config;
    const post = (headers: Record<string, string>): Request => new Request('https://edge.example/reset/eshopbox', { method: 'POST', headers });
    expect(operatorAccess(post({}), production)).toBe('key');
    expect(operatorAccess(post({ origin: 'https://shop.example', 'x-tokengate-csrf': '1' }), production)).toBe('key');
    expect(operatorAccess(post({ 'x-tokengate-key': 'operator-key-canarx' }), production)).toBe('key');
    expect(operatorAccess(post({ 'x-tokengate-key': 'operator-key-canary' }), production)).toBe('ok');
    expect(operatorAccess(post({ 'x-tokengate-key': 'anything' }), { ...production, apiKey: undefined } as Config)).toBe('key');
  });
});

describe("instellix's 5 s rule as the vendor measures it: between request arrivals", () => {
  const shipments = (i: number): Promise<Response> => call('/api/instellix/api/v1/shipments', { headers: shopper(200 + i) });

  it('a first token request that arrives 3 s late: the renewal still arrives 5 s after it, never refused', async () => {
    await resetSandbox();
    await call('/reset/instellix', { method: 'POST', headers: browser() });
    await fault('instellix', 'slow', { delayMs: 3000 });
    expect((await shipments(0)).status).toBe(200);
    // Every token revoked: the next call gets a 401 upstream and renews at once, paced by the Worker.
    await fault('instellix', 'revoke');
    const started = Date.now();
    expect((await shipments(1)).status).toBe(200);
    const stats = await sandboxStats();
    expect(stats.refusedPolls).toBe(0);
    expect(stats.tokenRequests['instellix']).toBe(2);
    // Paced from the first answer (which came 3 s after it was sent), not from when it was sent.
    expect(Date.now() - started).toBeGreaterThan(3_500);
  }, 20_000);

  it('a restarted coordinator keeps the pacing: its first request waits out the window of the last answer', async () => {
    await resetSandbox();
    await call('/reset/instellix', { method: 'POST', headers: browser() });
    expect((await shipments(2)).status).toBe(200);
    const namespace = (env as unknown as { COORDINATOR: DurableObjectNamespace<TokenCoordinator> }).COORDINATOR;
    const stub = namespace.get(namespace.idFromName('app:instellix'));
    const outcome = await runInDurableObject(stub, async (instance: TokenCoordinator, state) => {
      const current = await instance.appToken('instellix');
      if (!current.ok) throw new Error(current.code);
      // A new instance over the same storage is what an evicted and restarted object is.
      const restarted = new TokenCoordinator(state, env as never);
      return restarted.renew('instellix', current.value.accessToken, false, 'tok:app:instellix');
    });
    expect(outcome.ok).toBe(true);
    const stats = await sandboxStats();
    expect(stats.refusedPolls).toBe(0);
    expect(stats.tokenRequests['instellix']).toBe(2);
  }, 20_000);
});
