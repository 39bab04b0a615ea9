import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { browser, call, fault, sandboxStats } from './helpers.js';

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
