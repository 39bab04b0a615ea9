import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { RENEWAL_WINDOW } from '../../worker/coordinator.js';
import { REFUSING_RESOURCE_PATH, REQUEST_LOG_PATH } from '../conformance/request-log.js';
import { cookieOf, link, ORIGIN, worker } from './helpers.js';

// The renewal budget for a DPoP vendor (docs/security.md row 23): a linked session alternating
// oidc-provider's userinfo (200 with the Worker's DPoP token) and a resource of the same server that
// refuses every token (401) makes at most one token request per window, not one per pair.

const issuer = (inject as unknown as (key: 'oidcIssuer') => string)('oidcIssuer');
const tokenRequests = async (): Promise<number> =>
  ((await (await fetch(`${issuer}${REQUEST_LOG_PATH}`)).json()) as { method: string; path: string }[]).filter((r) => r.method === 'POST' && r.path === '/token').length;

describe('the renewal budget with DPoP (row 23)', () => {
  it('alternating a 200 route and a 401 route costs at most one token request per window (finding 1)', async () => {
    const { done } = await link('oidc-dpop');
    expect(done.status).toBe(303);
    const headers = { cookie: cookieOf(done, '__Host-tg_session')!, origin: ORIGIN, 'x-tokengate-csrf': '1' };
    const before = await tokenRequests();
    const started = Date.now();
    const refused: number[] = [];
    for (let pair = 0; pair < 55; pair++) {
      const ok = await worker.fetch(`${ORIGIN}/api/oidc-dpop/me`, { headers });
      await ok.body?.cancel();
      expect(ok.status).toBe(200);
      const no = await worker.fetch(`${ORIGIN}/api/oidc-dpop${REFUSING_RESOURCE_PATH}`, { headers });
      await no.body?.cancel();
      refused.push(no.status);
    }
    const elapsed = Date.now() - started;
    // One renewal per window begun; before the budget, every pair made one (55).
    expect(await tokenRequests() - before, `${elapsed} ms`).toBeLessThanOrEqual(Math.floor(elapsed / RENEWAL_WINDOW) + 1);
    expect(refused.every((status) => status === 502)).toBe(true);
  }, 60_000);
});
