import { env } from 'cloudflare:workers';
import { createPkce, createState } from 'tokengate';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../worker/config.js';
import worker from '../../worker/index.js';
import { browser, call, cookieHeader, heldTokens, introspect, linkBff, linkOauth2, ORIGIN, sandboxStats, setCookies } from './helpers.js';

// The two linking modes stay apart (docs/security.md row 18): a session linked the BFF way never
// yields a token to the browser; a link's mode is fixed until unlink; a vendor can allow one mode only;
// a grant a re-link replaces is revoked at the vendor first, and the answer says so.

const form = { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' };

const refresh = (cookie: string): Promise<Response> => call('/token/instacart', { method: 'POST', headers: { ...form, cookie }, body: 'grant_type=refresh_token' });

/** A code for the mediated flow (Instacart's fulfillment sandbox authorizes through the Worker) and its verifier. */
async function mediatedCode(): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = await createPkce();
  const authorize = await call('/link/instacart/authorize', { method: 'POST', headers: browser({ 'content-type': 'application/json' }), body: JSON.stringify({ state: createState(), code_challenge: challenge, code_challenge_method: 'S256' }) });
  expect(authorize.status).toBe(200);
  const { callbackUrl } = (await authorize.json()) as { callbackUrl: string };
  return { code: new URL(callbackUrl).searchParams.get('code')!, verifier };
}

/** `POST /token/instacart` with a fresh code, as the mediated page does; with `cookie`, for that session. */
async function exchange(cookie?: string): Promise<Response> {
  const { code, verifier } = await mediatedCode();
  return call('/token/instacart', {
    method: 'POST',
    headers: { ...form, ...(cookie === undefined ? {} : { cookie }) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: `${ORIGIN}/callback` }),
  });
}

/** The Worker's configuration with instacart limited to one linking mode. */
function onlyMode(mode: string): Record<string, unknown> {
  const real = env as unknown as Record<string, unknown> & { VENDORS: Record<string, { link: object }> };
  return { ...real, VENDORS: { ...real.VENDORS, instacart: { ...real.VENDORS['instacart']!, link: { scope: 'connect:fulfillment', mode } } } };
}

describe('linking modes (row 18)', () => {
  it('a BFF-linked session asking /token to refresh is refused, with no vendor call', async () => {
    const session = await linkBff();
    // The session works for the Worker's own use of it.
    expect((await call('/api/instacart/v2/fulfillment/users/self', { headers: { origin: ORIGIN, 'x-tokengate-csrf': '1', cookie: session } })).status).toBe(200);
    const before = await sandboxStats();
    const answer = await refresh(session);
    expect(answer.status).toBe(403);
    const body = (await answer.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'access_denied' });
    expect(body).not.toHaveProperty('access_token');
    const after = await sandboxStats();
    expect(after.tokenRequests['instacart']).toBe(before.tokenRequests['instacart']);
    expect(after.apiCalls).toEqual(before.apiCalls);
  });

  it('a session with nothing linked is told to link, not that it is BFF', async () => {
    const answer = await refresh('__Host-tg_session=never-linked-session-id');
    expect(answer.status).toBe(400);
    await expect(answer.json()).resolves.toMatchObject({ error: 'invalid_grant' });
  });

  it('a BFF-linked session posting an authorization code to /token is refused before any vendor call, and stays BFF', async () => {
    const session = await linkBff();
    const { code, verifier } = await mediatedCode();
    const before = (await sandboxStats()).tokenRequests['instacart'];
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: `${ORIGIN}/callback` });
    const answer = await call('/token/instacart', { method: 'POST', headers: { ...form, cookie: session }, body });
    expect(answer.status).toBe(403);
    const refused = (await answer.json()) as Record<string, unknown>;
    expect(refused).toMatchObject({ error: 'access_denied' });
    expect(refused).not.toHaveProperty('access_token');
    expect((await sandboxStats()).tokenRequests['instacart']).toBe(before);
    // Still BFF: /token still refuses to refresh it.
    expect((await refresh(session)).status).toBe(403);
    // The code itself was good: without the BFF session it is exchanged (a new, mediated session).
    const elsewhere = await call('/token/instacart', { method: 'POST', headers: form, body });
    expect(elsewhere.status).toBe(200);
  });

  it('a mediated session is not taken over by a BFF link; it stays mediated', async () => {
    const first = await exchange();
    expect(first.status).toBe(200);
    const session = cookieHeader(setCookies(first).filter((c) => c.name === '__Host-tg_session'));
    const start = await call('/link/instacart/start', { headers: { 'sec-fetch-site': 'same-origin', cookie: session } });
    const location = new URL(start.headers.get('location')!);
    const link = cookieHeader(setCookies(start).filter((c) => c.name === '__Host-tg_link'));
    const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: `${link}; ${session}` } });
    expect(callback.status).toBe(409);
    await expect(callback.json()).resolves.toMatchObject({ reason: 'ERR_LINKED_MEDIATED' });
    expect((await refresh(session)).status).toBe(200);
  });

  it('a BFF re-link revokes the replaced refresh token at the vendor first, and the answer says so', async () => {
    const first = await linkOauth2();
    const replaced = (await heldTokens(first.cookie))!;
    expect(await introspect(replaced.refreshToken!)).toMatchObject({ active: true });
    const again = await linkOauth2(first.cookie);
    expect(again.cookie).toBe(first.cookie);
    const back = new URL(again.location, ORIGIN);
    expect(back.searchParams.get('linked')).toBe('oauth2');
    expect(back.searchParams.get('replaced')).toBe('revoked');
    expect(await introspect(replaced.refreshToken!)).toEqual({ active: false });
    expect(await introspect(replaced.accessToken)).toEqual({ active: false });
    const current = (await heldTokens(first.cookie))!;
    expect(current.refreshToken).not.toBe(replaced.refreshToken);
    expect(await introspect(current.refreshToken!)).toMatchObject({ active: true });
  });

  it('a mediated re-link says what became of the replaced grant (Instacart offers no revocation)', async () => {
    const first = await exchange();
    expect(await first.json()).not.toHaveProperty('replaced_grant');
    const session = cookieHeader(setCookies(first).filter((c) => c.name === '__Host-tg_session'));
    const again = await exchange(session);
    expect(again.status).toBe(200);
    await expect(again.json()).resolves.toMatchObject({ replaced_grant: 'not_offered' });
  });

  it('a vendor configured for one mode refuses the other before any vendor call', async () => {
    const ask = (path: string, init: RequestInit, environment: Record<string, unknown>): Promise<Response> => worker.fetch(new Request(`${ORIGIN}${path}`, { redirect: 'manual', ...init }), environment as never);
    const before = await sandboxStats();
    const bffOnly = onlyMode('bff');
    const token = await ask('/token/instacart', { method: 'POST', headers: form, body: 'grant_type=authorization_code&code=c&code_verifier=v&redirect_uri=x' }, bffOnly);
    expect(token.status).toBe(400);
    await expect(token.json()).resolves.toMatchObject({ error: 'invalid_request' });
    const authorize = await ask('/link/instacart/authorize', { method: 'POST', headers: browser({ 'content-type': 'application/json' }), body: '{}' }, bffOnly);
    expect(authorize.status).toBe(403);
    await expect((await ask('/link/instacart/config', {}, bffOnly)).json()).resolves.toMatchObject({ modes: ['bff'] });
    const mediatedOnly = onlyMode('mediated');
    const start = await ask('/link/instacart/start', { headers: { 'sec-fetch-site': 'same-origin' } }, mediatedOnly);
    expect(start.status).toBe(303);
    expect(start.headers.get('location')).toBe('/?link_error=ERR_LINK_MODE&vendor=instacart');
    expect(start.headers.getSetCookie()).toEqual([]);
    expect(await sandboxStats()).toEqual(before);
    // The key is checked like every other: a mode that does not exist is a configuration error naming it.
    expect(() => loadConfig(onlyMode('both'), fetch)).toThrow(ConfigError);
    expect(() => loadConfig(onlyMode('both'), fetch)).toThrow(/VENDORS\.instacart\.link\.mode: must be one of bff, mediated/);
  });
});
