import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeyRingSecret } from '../../worker/crypto.js';
import worker from '../../worker/index.js';
import { freshRateWindow } from '../helpers/flood.js';
import { call, instaboxVendor, operatorKey } from './helpers.js';

// The operator key and the key ring outside loopback (docs/security.md rows 15, 27 and 30; issue 21
// finding 4): a weak, patterned or published key is refused with a configuration error naming its
// binding, and wrong keys meet the caller's rate limit before they are compared.

const real = env as unknown as Record<string, unknown>;
/** The development secrets the test configuration binds (sandbox/dev-secrets.mjs): published in the repository. */
const dev = real as Record<string, string>;
/** wrangler.toml's development budgets per caller: /api calls of one vendor, and linking plus /reset calls. */
const CALLER_API_LIMIT = 120;
const CALLER_FLOW_LIMIT = 60;

const lines: string[] = [];
beforeAll(() => {
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
});
afterAll(() => vi.restoreAllMocks());

/** The Worker as deployed (no sandbox, a public origin, a key route) with these keys; a fresh env object each time. */
function production(apiKey: string, keyRing: string): Record<string, unknown> {
  return {
    ...real,
    SANDBOX_ORIGIN: undefined,
    PUBLIC_ORIGIN: 'https://edge.example',
    ALLOWED_ORIGINS: ['https://shop.example'],
    TOKENGATE_API_KEY: apiKey,
    TOKENGATE_KEYS: keyRing,
    VENDORS: { instabox: instaboxVendor([{ method: 'GET', path: '/v2/orders', access: 'public' }, { method: 'POST', path: '/v2/orders', access: 'key' }]) },
  };
}

/** What the Worker answers `/status` with these keys, and the configuration error its log names. */
async function serve(apiKey: string, keyRing: string): Promise<{ status: number; body: string; logged: string }> {
  const from = lines.length;
  const answer = await worker.fetch(new Request('https://edge.example/status', { headers: { 'x-tokengate-key': apiKey, 'cf-connecting-ip': '198.51.100.70' } }), production(apiKey, keyRing) as never);
  return { status: answer.status, body: await answer.text(), logged: lines.slice(from).join('\n') };
}

describe('operator keys outside loopback (finding 4)', () => {
  it('refuses to serve with a weak, patterned or published operator key, or a published key ring, and the log names the binding', async () => {
    const ring = generateKeyRingSecret();
    const refusals: [string, string, string, RegExp][] = [
      ['one character', 'x', ring, /TOKENGATE_API_KEY: the operator key is shorter than 32 random bytes/],
      ['a short canary', 'operator-key-canary-5c1e', ring, /TOKENGATE_API_KEY: the operator key is shorter than 32 random bytes/],
      ['one character repeated', 'a'.repeat(80), ring, /TOKENGATE_API_KEY: the operator key (is shorter|has visibly low entropy)/],
      ['a repeated pattern', 'Tg7-kQ2_'.repeat(8), ring, /TOKENGATE_API_KEY: the operator key has visibly low entropy/],
      ['a run of the alphabet', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', ring, /TOKENGATE_API_KEY: the operator key has visibly low entropy/],
      ['the development API key', dev['TOKENGATE_API_KEY']!, ring, /TOKENGATE_API_KEY: the operator key is published in the tokengate repository/],
      ['a sandbox client secret', dev['INSTACART_CLIENT_SECRET']!, ring, /TOKENGATE_API_KEY: the operator key is published in the tokengate repository/],
      ['the development key ring', operatorKey(), dev['TOKENGATE_KEYS']!, /TOKENGATE_KEYS: key 1 \(kid dev\) is published in the tokengate repository/],
      ['the development key ring behind a new key', operatorKey(), `${ring},${dev['TOKENGATE_KEYS']!}`, /TOKENGATE_KEYS: key 2 \(kid dev\) is published in the tokengate repository/],
      ['a key ring of one repeated byte', operatorKey(), `k1:${'A'.repeat(43)}`, /TOKENGATE_KEYS: key 1 \(kid k1\) has visibly low entropy/],
    ];
    for (const [what, apiKey, keyRing, named] of refusals) {
      const { status, body, logged } = await serve(apiKey, keyRing);
      expect(status, what).toBe(500);
      expect(JSON.parse(body), what).toMatchObject({ error: 'configuration_error' });
      expect(logged, what).toMatch(named);
      // Neither the wire nor the log repeats a key.
      for (const value of [apiKey, ...keyRing.split(',').map((entry) => entry.slice(entry.indexOf(':') + 1))].filter((key) => key.length >= 8)) {
        expect(body, what).not.toContain(value);
        expect(logged, what).not.toContain(value);
      }
    }
    // Keys of 32 random bytes, base64url or hex, serve.
    expect((await serve(operatorKey(), ring)).status).toBe(200);
    const hex = [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect((await serve(hex, generateKeyRingSecret())).status).toBe(200);
  });

  it('on loopback the development keys still serve (npm start)', async () => {
    expect((await call('/status', { headers: { 'cf-connecting-ip': '198.51.100.71' } })).status).toBe(200);
  });

  it('300 wrong keys on a key route from one address meet 429, before the key is compared', async () => {
    await freshRateWindow(40);
    const wrong = (i: number): Promise<Response> =>
      call('/api/instabox/v2/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tokengate-key': `wrong-key-${i}`, 'cf-connecting-ip': '198.51.100.72' }, body: '{}' });
    const statuses: number[] = [];
    for (let start = 0; start < 300; start += 25) statuses.push(...(await Promise.all(Array.from({ length: 25 }, (_, k) => wrong(start + k)))).map((answer) => answer.status));
    expect(statuses.filter((status) => status === 401)).toHaveLength(CALLER_API_LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(300 - CALLER_API_LIMIT);
    // Past the limit even the right key is not compared: the budget comes first.
    const right = await call('/api/instabox/v2/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tokengate-key': dev['TOKENGATE_API_KEY']!, 'cf-connecting-ip': '198.51.100.72' }, body: '{}' });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('wrong keys on the operator routes of a deployed Worker meet 429 too', async () => {
    await freshRateWindow(40);
    const environment = production(operatorKey(), generateKeyRingSecret());
    const reset = (i: number): Promise<Response> =>
      worker.fetch(new Request('https://edge.example/reset/instabox', { method: 'POST', headers: { 'x-tokengate-key': `wrong-key-${i}`, 'cf-connecting-ip': '198.51.100.73' } }), environment as never);
    const statuses = (await Promise.all(Array.from({ length: CALLER_FLOW_LIMIT + 20 }, (_, i) => reset(i)))).map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(CALLER_FLOW_LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
  }, 60_000);
});
