import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { browser, call, fault, setCookies } from './helpers.js';

// docs/security.md row 13: the Worker's log lines carry no secret, token, code, verifier or session id.
const lines: string[] = [];
beforeAll(() => {
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
});
afterAll(() => vi.restoreAllMocks());

describe('log lines', () => {
  it('are structured JSON and carry none of the values that passed through', async () => {
    const secrets: string[] = [];
    // A link, whose code, state and session id must not be logged.
    const start = await call('/link/instacart/start');
    const location = new URL(start.headers.get('location')!);
    const link = setCookies(start)[0]!;
    secrets.push(location.searchParams.get('code')!, location.searchParams.get('state')!, link.value);
    const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: `${link.name}=${link.value}` } });
    const session = setCookies(callback).find((c) => c.name === '__Host-tg_session')!;
    secrets.push(session.value);
    // Proxied calls, errors, a faulty vendor, a bad caller key.
    await call('/api/instabox/v2/orders', { headers: browser({ cookie: `${session.name}=${session.value}`, authorization: 'Bearer caller-secret-token' }) });
    await call('/api/instabox/v2/orders', { method: 'POST', headers: browser({ 'x-tokengate-key': 'wrong-key-value-1234' }), body: '{}' });
    await call(`/api/echo/headers?token=${secrets[0]}`, { headers: browser() });
    await call(`/api/echo/ratelimited?code=${secrets[0]}&retry_after=1`, { headers: browser() }); // an upstream failure is logged
    await fault('instellix', 'html', { count: 3 });
    await call('/api/instellix/api/v1/shipments', { headers: browser({ 'cf-connecting-ip': '203.0.113.50' }) });
    await fault('instellix', 'none');
    secrets.push('caller-secret-token', 'wrong-key-value-1234');

    const logged = lines.filter((line) => line.startsWith('{'));
    expect(logged.length).toBeGreaterThanOrEqual(3); // link start, link callback, the failed upstream call
    for (const line of logged) {
      expect(() => JSON.parse(line)).not.toThrow();
      expect(line).not.toContain('sandbox-secret');
      for (const secret of secrets) expect(line).not.toContain(secret);
    }
  });
});
