import { describe, expect, it } from 'vitest';
import { floodUntilLimited as flood } from '../helpers/flood.js';
import { browser, call, ORIGIN, sandboxStats } from './helpers.js';

// Every route that costs a vendor call, a Durable Object or a KV write is rate limited per caller with
// Cloudflare's Rate Limiting binding, shared by all isolates (docs/security.md rows 19 and 32). The dev
// budgets are wrangler.toml's: 60 linking calls a minute per caller and vendor, 300 /status calls a
// minute per caller (the demo's panel).
const CALLER_FLOW_LIMIT = 60;
const CALLER_STATUS_LIMIT = 300;

function expectRetryAfter(limited: Response | undefined): void {
  expect(limited?.status).toBe(429);
  expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

const bogusCode = (ip: string): Promise<Response> =>
  call('/token/oauth2', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': ip },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'bogus-code', code_verifier: 'v'.repeat(43), redirect_uri: `${ORIGIN}/callback` }),
  });

describe('rate limits on every costly route (row 19)', () => {
  it('a flood of /link/*/start from one caller gets 429 with Retry-After', async () => {
    const { limited, passed: before } = await flood(CALLER_FLOW_LIMIT + 20, () => call('/link/oauth2/start', { headers: { 'cf-connecting-ip': '198.51.100.31' } }));
    expectRetryAfter(limited);
    expect(before.length).toBeLessThanOrEqual(CALLER_FLOW_LIMIT);
    expect(before.every((status) => status === 303)).toBe(true);
  }, 90_000);

  it('a flood of /link/*/authorize from one caller gets 429 with Retry-After', async () => {
    const { limited, passed: before } = await flood(CALLER_FLOW_LIMIT + 20, () =>
      call('/link/instacart/authorize', { method: 'POST', headers: { 'cf-connecting-ip': '198.51.100.32' }, body: '{}' }),
    );
    expectRetryAfter(limited);
    expect(before.length).toBeLessThanOrEqual(CALLER_FLOW_LIMIT);
  }, 90_000);

  it('a flood of /status from one caller gets 429 with Retry-After', async () => {
    const { limited, passed: before } = await flood(CALLER_STATUS_LIMIT + 20, () => call('/status', { headers: { 'cf-connecting-ip': '198.51.100.33' } }));
    expectRetryAfter(limited);
    expect(before.length).toBeLessThanOrEqual(CALLER_STATUS_LIMIT);
  }, 90_000);

  it('/token floods: one caller is cut off at its own budget, the vendor sees at most that, and another caller is still served', async () => {
    const start = (await sandboxStats()).tokenRequests['oauth2'] ?? 0;
    const one = await flood(CALLER_FLOW_LIMIT + 20, () => bogusCode('198.51.100.34'));
    expectRetryAfter(one.limited);
    expect(one.passed.length).toBeLessThanOrEqual(CALLER_FLOW_LIMIT);
    const tokenRequests = ((await sandboxStats()).tokenRequests['oauth2'] ?? 0) - start;
    expect(tokenRequests).toBeGreaterThan(0);
    expect(tokenRequests).toBeLessThanOrEqual(CALLER_FLOW_LIMIT);
    // No budget is shared: the flood spent its caller's, not the vendor's (row 32).
    expect((await bogusCode('198.51.100.36')).status).toBe(400);
  }, 120_000);

  it('another caller is not affected by one caller\'s flood', async () => {
    expect((await call('/status', { headers: { 'cf-connecting-ip': '198.51.100.35' } })).status).toBe(200);
    expect((await call('/api/instabox/v2/orders', { headers: browser({ 'cf-connecting-ip': '198.51.100.35' }) })).status).toBe(200);
  });
});
