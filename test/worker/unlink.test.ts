import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { TokenCoordinator } from '../../worker/coordinator.js';
import { parseKeyRing } from '../../worker/crypto.js';
import { storageStore } from '../../worker/storage-store.js';
import { browser, call, cookieHeader, SANDBOX, setCookies } from './helpers.js';

// Unlink revokes what it can at the vendor (RFC 7009), and unlinks here whatever the vendor answers.
// The standard OAuth 2.0 server of the sandbox has a revocation endpoint and introspection (RFC 7662)
// to say afterwards what it still accepts.

const bindings = env as unknown as { COORDINATOR: DurableObjectNamespace<TokenCoordinator>; TOKENGATE_KEYS: string };
const credentials = { clientId: 'sandbox-oauth2-client', clientSecret: (env as unknown as Record<string, string>)['OAUTH2_CLIENT_SECRET']! };

/** BFF-links the standard server through its consent page (as a shopper pressing Allow); the session cookie. */
async function linkOauth2(): Promise<string> {
  const start = await call('/link/oauth2/start', { headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' } });
  expect(start.status).toBe(303);
  const authorize = new URL(start.headers.get('location')!);
  const linkCookie = cookieHeader(setCookies(start).filter((c) => c.name === '__Host-tg_link'));
  const consent = await fetch(authorize, { method: 'POST', redirect: 'manual', body: new URLSearchParams([...authorize.searchParams, ['decision', 'allow']]) });
  expect(consent.status).toBe(303);
  const back = new URL(consent.headers.get('location')!);
  const callback = await call(`${back.pathname}${back.search}`, { headers: { cookie: linkCookie } });
  expect(callback.status).toBe(303);
  return cookieHeader(setCookies(callback).filter((c) => c.name === '__Host-tg_session'));
}

/** The linked token set, read from the session's object the way the Worker reads it. */
async function heldTokens(cookie: string): Promise<{ accessToken: string; refreshToken?: string } | undefined> {
  const session = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  const stub = bindings.COORDINATOR.get(bindings.COORDINATOR.idFromName(`session:${session}`));
  return runInDurableObject(stub, (_instance, state) => storageStore(state.storage, parseKeyRing(bindings.TOKENGATE_KEYS)).get('tokens:oauth2'));
}

const introspect = async (token: string): Promise<{ active: boolean }> =>
  (await fetch(`${SANDBOX}/oauth2/introspect`, {
    method: 'POST',
    headers: { authorization: `Basic ${btoa(`${credentials.clientId}:${credentials.clientSecret}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  }).then((answer) => answer.json())) as { active: boolean };

describe('unlink revokes at the vendor (RFC 7009)', () => {
  it('after unlink the vendor says the refresh token and the access token are inactive', async () => {
    const cookie = await linkOauth2();
    const tokens = await heldTokens(cookie);
    expect(tokens?.refreshToken).toBeTruthy();
    expect(await introspect(tokens!.refreshToken!)).toMatchObject({ active: true });
    expect(await introspect(tokens!.accessToken)).toMatchObject({ active: true });

    const unlink = await call('/link/oauth2/unlink', { method: 'POST', headers: browser({ cookie }) });
    expect(unlink.status).toBe(200);
    expect(await unlink.json()).toEqual({ vendor: 'oauth2', linked: false, revocation: 'revoked' });
    expect(await introspect(tokens!.refreshToken!)).toEqual({ active: false });
    expect(await introspect(tokens!.accessToken)).toEqual({ active: false });
    expect(await heldTokens(cookie)).toBeUndefined();
  });

  it('a vendor without a revocation endpoint: unlinked here, and the answer says revocation is not offered', async () => {
    const start = await call('/link/instacart/start', { headers: { 'sec-fetch-site': 'same-origin' } });
    const location = new URL(start.headers.get('location')!);
    const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: cookieHeader(setCookies(start).filter((c) => c.name === '__Host-tg_link')) } });
    const cookie = cookieHeader(setCookies(callback).filter((c) => c.name === '__Host-tg_session'));
    const unlink = await call('/link/instacart/unlink', { method: 'POST', headers: browser({ cookie }) });
    expect(await unlink.json()).toEqual({ vendor: 'instacart', linked: false, revocation: 'not_offered' });
  });

  it('when the vendor fails to revoke, the account is unlinked here all the same and the answer says so', async () => {
    const cookie = await linkOauth2();
    // The server's next answer of a token or revocation request is a 503: the refresh token's revocation.
    const armed = await fetch(`${SANDBOX}/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor: 'oauth2', fault: '5xx', count: 1 }) });
    expect(armed.status).toBe(204);
    const unlink = await call('/link/oauth2/unlink', { method: 'POST', headers: browser({ cookie }) });
    expect(unlink.status).toBe(200);
    const body = (await unlink.json()) as { linked: boolean; revocation: string; code?: string; message?: string };
    expect(body).toMatchObject({ linked: false, revocation: 'failed' });
    expect(body.message).toMatch(/Unlinked here; oauth2 did not confirm that it revoked the tokens/);
    expect(await heldTokens(cookie)).toBeUndefined();
    await fetch(`${SANDBOX}/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor: 'oauth2', fault: 'none' }) });
  });
});
