import { describe, expect, it } from 'vitest';
import { browser, call, echoCalls, fault, sandboxStats } from './helpers.js';

// An upstream that refuses every token must not make the Worker mint one per call (docs/security.md row 23).
const caller = (i: number): Record<string, string> => browser({ 'cf-connecting-ip': `203.0.113.${i % 250}` });

describe('a vendor that refuses fresh tokens (row 23)', () => {
  it('100 sequential calls to an always-401 upstream cause at most 3 token requests, the rest a typed 502', async () => {
    const before = (await sandboxStats()).tokenRequests['echo'] ?? 0;
    const echoBefore = await echoCalls();
    const answers: { status: number; error: unknown }[] = [];
    for (let i = 0; i < 100; i++) {
      const response = await call('/api/echo/unauthorized', { headers: caller(i) });
      answers.push({ status: response.status, error: ((await response.json()) as { error?: unknown }).error });
    }
    const tokenRequests = ((await sandboxStats()).tokenRequests['echo'] ?? 0) - before;
    expect(tokenRequests).toBeGreaterThanOrEqual(1);
    expect(tokenRequests).toBeLessThanOrEqual(3);
    expect(answers.every((answer) => answer.status === 502 && answer.error === 'fresh_token_refused')).toBe(true);
    // Each call reached the upstream at most twice (the first try, and one retry when a renewal was allowed).
    expect((await echoCalls()) - echoBefore).toBeLessThanOrEqual(100 + tokenRequests);
  });

  it('a token that worked and is then revoked is renewed every time, even twice within the window', async () => {
    expect((await call('/api/instabox/v2/orders', { headers: caller(1) })).status).toBe(200);
    const before = (await sandboxStats()).tokenRequests['instabox']!;
    for (let round = 0; round < 2; round++) {
      await fault('instabox', 'revoke');
      expect((await call('/api/instabox/v2/orders', { headers: caller(2 + round) })).status).toBe(200);
    }
    expect((await sandboxStats()).tokenRequests['instabox']! - before).toBe(2);
  });
});
