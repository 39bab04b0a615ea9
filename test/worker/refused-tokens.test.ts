import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RENEWAL_WINDOW, RENEWALS_PER_WINDOW } from '../../worker/coordinator.js';
import { browser, call, echoCalls, fault, sandboxStats } from './helpers.js';

// An upstream that refuses every token must not make the Worker mint one per call, and neither may a
// route that refuses a valid token, alternated with one that takes it (docs/security.md row 23).
const caller = (i: number): Record<string, string> => browser({ 'cf-connecting-ip': `203.0.113.${i % 250}` });

const lines: string[] = [];
beforeAll(() => {
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
});
afterAll(() => vi.restoreAllMocks());
/** The Worker's refused-renewal log lines since `from`. */
const refusalsLogged = (from: number): Record<string, unknown>[] =>
  lines
    .slice(from)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line['at'] === 'renewal');
/** Renewals the window allows over `ms`: one per window begun. */
const allowedRenewals = (ms: number): number => Math.floor(ms / RENEWAL_WINDOW) + 1;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a vendor that refuses fresh tokens (row 23)', () => {
  it('100 sequential calls to an always-401 upstream cause at most 3 token requests, the rest a typed 502', async () => {
    const before = (await sandboxStats()).tokenRequests['echo'] ?? 0;
    const echoBefore = await echoCalls();
    const logged = lines.length;
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
    // Every refusal wrote a log line: the vendor and the credential's kind, never the token.
    const refusals = refusalsLogged(logged);
    expect(refusals).toHaveLength(100);
    expect(refusals.every((line) => line['vendor'] === 'echo' && line['credential'] === 'app' && line['outcome'] === 'ERR_FRESH_TOKEN_REFUSED')).toBe(true);
  });

  it('alternating a 200 route and a 401 route from many callers costs at most one token request per window (finding 1)', async () => {
    // A route that refuses a valid token (a scope or per-resource refusal) next to one that takes it:
    // the token "worked", yet each 401 must not buy a renewal.
    expect((await call('/api/echo/headers', { headers: caller(7) })).status).toBe(200);
    const before = (await sandboxStats()).tokenRequests['echo'] ?? 0;
    const logged = lines.length;
    const started = Date.now();
    const refused: number[] = [];
    for (let pair = 0; pair < 55; pair++) {
      expect((await call('/api/echo/headers', { headers: caller(2 * pair) })).status).toBe(200);
      const answer = await call('/api/echo/unauthorized', { headers: caller(2 * pair + 1) });
      refused.push(answer.status);
    }
    const elapsed = Date.now() - started;
    const tokenRequests = ((await sandboxStats()).tokenRequests['echo'] ?? 0) - before;
    expect(tokenRequests, `${elapsed} ms`).toBeLessThanOrEqual(allowedRenewals(elapsed));
    expect(refused.every((status) => status === 502)).toBe(true);
    expect(refusalsLogged(logged)).toHaveLength(55);
  });

  it('a token revoked at the vendor is replaced at once, even three times within the window; a fourth waits for the window', async () => {
    expect((await call('/api/instabox/v2/orders', { headers: caller(1) })).status).toBe(200);
    const before = (await sandboxStats()).tokenRequests['instabox']!;
    // Each renewal helps (the new token is accepted where the revoked one was refused): no budget is spent on it but the cap.
    for (let round = 0; round < RENEWALS_PER_WINDOW; round++) {
      await fault('instabox', 'revoke');
      expect((await call('/api/instabox/v2/orders', { headers: caller(2 + round) })).status).toBe(200);
    }
    expect((await sandboxStats()).tokenRequests['instabox']! - before).toBe(RENEWALS_PER_WINDOW);
    // One more within the window: the cap is reached, the answer says for how long.
    await fault('instabox', 'revoke');
    const waiting = await call('/api/instabox/v2/orders', { headers: caller(9) });
    expect(waiting.status).toBe(502);
    const retryAfter = Number(waiting.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(RENEWAL_WINDOW / 1000);
    expect((await sandboxStats()).tokenRequests['instabox']! - before).toBe(RENEWALS_PER_WINDOW);
    // Once the window has moved on, it is replaced at the next call.
    await sleep(retryAfter * 1000 + 250);
    expect((await call('/api/instabox/v2/orders', { headers: caller(10) })).status).toBe(200);
    expect((await sandboxStats()).tokenRequests['instabox']! - before).toBe(RENEWALS_PER_WINDOW + 1);
  });
});
