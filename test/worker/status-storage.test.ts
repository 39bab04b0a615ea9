import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { TokenCoordinator, type CredentialStatus } from '../../worker/coordinator.js';
import { browser, call, cookieHeaderOf as cookieOf, fault, resetSandbox } from './helpers.js';

// The live panel's numbers (`GET /status`): token requests, the last error and the last success of
// each credential live in its Durable Object's storage, so an evicted and restarted object reports
// what happened before, and a linked account counts its code exchange.

const namespace = (env as unknown as { COORDINATOR: DurableObjectNamespace<TokenCoordinator> }).COORDINATOR;

interface StatusBody {
  vendors: { vendor: string; app: CredentialStatus; linked: CredentialStatus | null }[];
}
async function statusOf(vendor: string, cookie?: string): Promise<StatusBody['vendors'][number]> {
  const body = (await (await call('/status', { headers: cookie === undefined ? {} : { cookie } })).json()) as StatusBody;
  return body.vendors.find((entry) => entry.vendor === vendor)!;
}

/** What a new instance over the same storage, an evicted and restarted object, reports. */
async function afterRestart(name: string, vendor: string, linked = false): Promise<CredentialStatus> {
  return runInDurableObject(namespace.get(namespace.idFromName(name)), (_instance: TokenCoordinator, state) =>
    new TokenCoordinator(state, env as never).status(vendor, linked),
  );
}

describe('status counters persist in the credential’s Durable Object', () => {
  it('token requests, the last error and the last success read the same after an eviction and a restart', async () => {
    await resetSandbox();
    await call('/reset/eshopbox', { method: 'POST', headers: browser() });
    await fault('eshopbox', 'html', { count: 1 });
    expect((await call('/api/eshopbox/api/v1/orders', { headers: browser() })).status).toBeGreaterThanOrEqual(500);
    const failed = (await statusOf('eshopbox')).app;
    expect(failed.tokenRequests).toBe(1);
    expect(failed.lastError).toMatchObject({ code: 'ERR_HTML_RESPONSE' });
    expect(failed.lastSuccess).toBeUndefined();

    const restarted = await afterRestart('app:eshopbox', 'eshopbox');
    expect(restarted.tokenRequests).toBe(1);
    expect(restarted.lastError).toEqual(failed.lastError);

    expect((await call('/api/eshopbox/api/v1/orders', { headers: browser() })).status).toBe(200);
    const served = (await statusOf('eshopbox')).app;
    expect(served.tokenRequests).toBe(2);
    expect(served.lastError).toBeUndefined();
    expect(served.lastSuccess?.at).toBeGreaterThanOrEqual(failed.lastError!.at);

    const again = await afterRestart('app:eshopbox', 'eshopbox');
    expect({ requests: again.tokenRequests, lastError: again.lastError, lastSuccess: again.lastSuccess }).toEqual({
      requests: 2,
      lastError: undefined,
      lastSuccess: served.lastSuccess,
    });
    // A token served from the cache is neither a request nor a new success.
    expect((await call('/api/eshopbox/api/v1/orders', { headers: browser() })).status).toBe(200);
    expect((await statusOf('eshopbox')).app).toMatchObject({ tokenRequests: 2, lastSuccess: served.lastSuccess });
  });

  it('an operator reset starts the counters over', async () => {
    await call('/api/eshopbox/api/v1/orders', { headers: browser() });
    await call('/reset/eshopbox', { method: 'POST', headers: browser() });
    const reset = await afterRestart('app:eshopbox', 'eshopbox');
    expect(reset.tokenRequests).toBe(0);
    expect(reset.lastSuccess).toBeUndefined();
  });

  it('a linked account counts its code exchange: 1 token request and a last success right after linking', async () => {
    const start = await call('/link/instacart/start');
    expect(start.status).toBe(303);
    const location = new URL(start.headers.get('location')!);
    const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: cookieOf(start) } });
    expect(callback.status).toBe(303);
    const session = cookieOf(callback);
    expect(session).toContain('__Host-tg_session=');
    const linked = (await statusOf('instacart', session)).linked!;
    expect(linked).toMatchObject({ held: true, tokenRequests: 1 });
    expect(linked.lastSuccess?.at).toEqual(expect.any(Number));
  });
});
