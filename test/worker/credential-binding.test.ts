import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { TokenCoordinator, type CredentialStatus } from '../../worker/coordinator.js';
import type { Env } from '../../worker/env.js';
import { objectName } from '../../worker/object-names.js';
import { browser, call, cookieHeaderOf as cookieOf } from './helpers.js';

// A token is served only while the credential it was minted from is the configured one
// (worker/credential-binding.ts). A coordinator made over the same storage with other secrets is what
// the object is after a `wrangler secret put` and a restart. test/node/secret-change.test.ts proves the
// same for an app credential through `wrangler dev`, KV copy included.

const namespace = (env as unknown as { COORDINATOR: DurableObjectNamespace<TokenCoordinator> }).COORDINATOR;

/** The status `vendor`'s credential in object `name` reports to a coordinator with `secrets` changed. */
function statusWith(name: string, vendor: string, linked: boolean, secrets: Record<string, string>): Promise<CredentialStatus> {
  return runInDurableObject(namespace.get(namespace.idFromName(name)), (_instance: TokenCoordinator, state) =>
    new TokenCoordinator(state, { ...(env as object), ...secrets } as never).status(vendor, linked),
  );
}

describe('tokens are bound to the secrets they were minted from', () => {
  it('an app credential: another secret finds no token to serve; the same secret still finds it', async () => {
    expect((await call('/api/instabox/v2/orders', { headers: browser() })).status).toBe(200);
    expect(await statusWith('app:instabox', 'instabox', false, {})).toMatchObject({ held: true, cached: true });
    expect(await statusWith('app:instabox', 'instabox', false, { INSTABOX_CLIENT_SECRET: 'another-secret' })).toMatchObject({ held: false, cached: false });
  });

  it('a linked account: another client secret expires its access token and keeps its refresh token to try', async () => {
    const start = await call('/link/instacart/start');
    const location = new URL(start.headers.get('location')!);
    const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: cookieOf(start) } });
    expect(callback.status).toBe(303);
    const session = decodeURIComponent(/__Host-tg_session=([^;]+)/.exec(cookieOf(callback))![1]!);
    // The session's object, named as the Worker names it (a keyed hash of the id, worker/object-names.ts).
    const name = await objectName(env as unknown as Env, { kind: 'session', vendor: 'instacart', session });
    expect(await statusWith(name, 'instacart', true, {})).toMatchObject({ held: true, cached: true });
    expect(await statusWith(name, 'instacart', true, { INSTACART_CLIENT_SECRET: 'another-secret' })).toMatchObject({ held: true, cached: false });
  });
});
