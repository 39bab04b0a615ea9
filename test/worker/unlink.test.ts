import { describe, expect, it } from 'vitest';
import { browser, call, cookieHeader, heldTokens, introspect, linkOauth2, SANDBOX, setCookies } from './helpers.js';

// Unlink revokes what it can at the vendor (RFC 7009), and unlinks here whatever the vendor answers.
// The standard OAuth 2.0 server of the sandbox has a revocation endpoint and introspection (RFC 7662)
// to say afterwards what it still accepts.

describe('unlink revokes at the vendor (RFC 7009)', () => {
  it('after unlink the vendor says the refresh token and the access token are inactive', async () => {
    const { cookie } = await linkOauth2();
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
    const { cookie } = await linkOauth2();
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
