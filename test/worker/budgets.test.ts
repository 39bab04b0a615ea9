import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { TokenCoordinator } from '../../worker/coordinator.js';
import type { Env } from '../../worker/env.js';
import worker from '../../worker/index.js';
import { objectName } from '../../worker/object-names.js';
import { freshRateWindow } from '../helpers/flood.js';
import { browser, call, echoCalls, linkBff, ORIGIN, sandboxStats } from './helpers.js';

// Budgets that bound what the vendor is asked for without a lever for a few callers (docs/security.md
// rows 19 and 32, issue 21 finding 2): every budget is one caller's own, work refused before it costs
// anything spends none, and the vendor's own 429 is honoured for every caller. The resulting bound on
// vendor calls per minute is in docs/worker-design.md, "Limits".

const real = env as unknown as Record<string, unknown> & { COORDINATOR: DurableObjectNamespace<TokenCoordinator> };
/** wrangler.toml's development budget: 120 /api calls a minute per caller and vendor. */
const CALLER_API_LIMIT = 120;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The real Worker and its real bindings, each Rate Limiting call written down (binding and key). */
function countingEnv(): { env: Record<string, unknown>; limits: { binding: string; key: string }[] } {
  const limits: { binding: string; key: string }[] = [];
  const counted: Record<string, unknown> = { ...real };
  for (const [name, binding] of Object.entries(real)) {
    if (!name.startsWith('RL_')) continue;
    const limiter = binding as RateLimit;
    counted[name] = { limit: (options: { key: string }) => (limits.push({ binding: name, key: options.key }), limiter.limit(options)) };
  }
  return { env: counted, limits };
}

describe('budgets without a lever (finding 2)', () => {
  it('130 cookieless callbacks, from 130 addresses and from one, spend no budget: a caller never seen before still links', async () => {
    await freshRateWindow(40);
    const before = await sandboxStats();
    for (let i = 0; i < 130; i++) {
      const rotating = await call('/link/instacart/callback?code=forged&state=forged', { headers: { 'cf-connecting-ip': `198.18.21.${i}` } });
      expect(rotating.status).toBe(400);
      const one = await call('/link/instacart/callback?code=forged&state=forged', { headers: { 'cf-connecting-ip': '198.18.22.1' } });
      expect(one.status).toBe(400);
    }
    expect((await sandboxStats()).tokenRequests['instacart']).toBe(before.tokenRequests['instacart']);
    // Neither the flood's own address nor a new one is refused its real link.
    await expect(linkBff({ 'cf-connecting-ip': '198.18.22.1' })).resolves.toMatch(/__Host-tg_session=/);
    await expect(linkBff({ 'cf-connecting-ip': '198.18.23.1' })).resolves.toMatch(/__Host-tg_session=/);
  }, 90_000);

  it('an /api call takes exactly one Rate Limiting call, keyed by its caller: callers who spend theirs leave another served', async () => {
    await freshRateWindow(40);
    const { env: counted, limits } = countingEnv();
    const send = (ip: string): Promise<Response> =>
      worker.fetch(new Request(`${ORIGIN}/api/instabox/v2/orders`, { headers: browser({ 'cf-connecting-ip': ip }) }), counted as never);
    // Eleven addresses, each spending its whole budget and more.
    let sent = 0;
    for (let caller = 0; caller < 11; caller++) {
      const answers = await Promise.all(Array.from({ length: CALLER_API_LIMIT + 5 }, () => send(`198.18.30.${caller}`)));
      sent += answers.length;
      for (const answer of answers) await answer.body?.cancel();
      expect(answers.filter((answer) => answer.status === 429)).toHaveLength(5);
    }
    const other = await send('198.18.31.1');
    await other.body?.cancel();
    expect(other.status).toBe(200);
    expect(limits).toHaveLength(sent + 1);
    expect(limits.every(({ binding, key }) => binding === 'RL_CALLER' && /:198\.18\.3[01]\.\d+$/.test(key))).toBe(true);
  }, 90_000);

  it("a vendor's 429 and Retry-After hold for every caller of that vendor: none reaches it until then, and its object remembers", async () => {
    expect((await call('/api/echo/headers', { headers: browser({ 'cf-connecting-ip': '198.18.40.1' }) })).status).toBe(200);
    const before = await echoCalls();
    const first = await call('/api/echo/ratelimited?retry_after=3', { headers: browser({ 'cf-connecting-ip': '198.18.40.2' }) });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('3');
    for (let i = 0; i < 10; i++) {
      const waiting = await call('/api/echo/headers', { headers: browser({ 'cf-connecting-ip': `198.18.41.${i}` }) });
      expect(waiting.status).toBe(429);
      expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(waiting.headers.get('retry-after'))).toBeLessThanOrEqual(3);
    }
    // Only the call that was answered 429 reached the vendor; another vendor is not affected.
    expect((await echoCalls()) - before).toBe(1);
    expect((await call('/api/instabox/v2/orders', { headers: browser({ 'cf-connecting-ip': '198.18.41.99' }) })).status).toBe(200);
    // The vendor's app-credential object keeps the time and hands it to every isolate that asks it for a token.
    const remembered = await real.COORDINATOR.get(real.COORDINATOR.idFromName('app:echo')).appToken('echo');
    expect(remembered.ok && remembered.vendorWaitUntil! > Date.now()).toBe(true);
    await sleep(3_250);
    expect((await call('/api/echo/headers', { headers: browser({ 'cf-connecting-ip': '198.18.42.1' }) })).status).toBe(200);
  }, 30_000);

  it("a linked session's 429 holds for that session only: other sessions and the app credential's callers are still served", async () => {
    const [shopper, other] = [await linkBff({ 'cf-connecting-ip': '198.18.60.1' }), await linkBff({ 'cf-connecting-ip': '198.18.60.2' })];
    const self = (cookie: string, ip: string): Promise<Response> => call('/api/instacart/v2/fulfillment/users/self', { headers: browser({ cookie, 'cf-connecting-ip': ip }) });
    expect((await self(shopper, '198.18.60.1')).status).toBe(200);
    // What the proxy records when the vendor answers this session's call 429 with Retry-After: 3 (a per-user limit).
    const session = decodeURIComponent(shopper.slice(shopper.indexOf('=') + 1));
    const stub = real.COORDINATOR.get(real.COORDINATOR.idFromName(await objectName(env as unknown as Env, { kind: 'session', vendor: 'instacart', session })));
    await stub.noteVendorWait('instacart', Date.now() + 3_000);
    const before = (await sandboxStats()).apiCalls['instacart']!;
    const waiting = await self(shopper, '198.18.60.1');
    expect(waiting.status).toBe(429);
    expect(((await waiting.json()) as { error: string }).error).toBe('vendor_rate_limited');
    expect(Number(waiting.headers.get('retry-after'))).toBeLessThanOrEqual(3);
    expect((await sandboxStats()).apiCalls['instacart']).toBe(before);
    expect((await self(other, '198.18.60.2')).status).toBe(200);
    expect((await call('/api/instacart/v2/fulfillment/stores', { headers: browser({ 'cf-connecting-ip': '198.18.60.3' }) })).status).toBe(200);
    await sleep(3_250);
    expect((await self(shopper, '198.18.60.1')).status).toBe(200);
  }, 30_000);

  it('the bound: callers flooding a vendor reach it at most their own budgets, for one token request', async () => {
    await freshRateWindow(40);
    const before = await sandboxStats();
    const callers = 3;
    for (let caller = 0; caller < callers; caller++) {
      const answers = await Promise.all(Array.from({ length: CALLER_API_LIMIT + 30 }, () => call('/api/instellix/api/v1/shipments', { headers: browser({ 'cf-connecting-ip': `198.18.50.${caller}` }) })));
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(CALLER_API_LIMIT);
    }
    const after = await sandboxStats();
    expect(after.apiCalls['instellix']! - before.apiCalls['instellix']!).toBeLessThanOrEqual(callers * CALLER_API_LIMIT);
    expect(after.tokenRequests['instellix']! - before.tokenRequests['instellix']!).toBeLessThanOrEqual(1);
  }, 90_000);
});
