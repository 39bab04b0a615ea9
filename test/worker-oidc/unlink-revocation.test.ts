import { describe, expect, inject, it } from 'vitest';
import { REQUEST_LOG_PATH } from '../conformance/request-log.js';
import { cookieOf, link, ORIGIN, worker } from './helpers.js';

// Unlink at a server that revokes the access token along with the refresh token (RFC 7009 §2.1
// allows it) and then refuses the second revocation with 400 invalid_request "token not found" (as
// better-auth does; §2.2 says 200): everything was revoked, so the answer says revoked. Against
// better-auth itself, and against an oidc-provider made to answer the same way.

const issuer = (inject as unknown as (key: 'oidcStrictRevocationIssuer') => string)('oidcStrictRevocationIssuer');
const betterAuth = (inject as unknown as (key: 'betterAuth') => { issuer: string; sessionCookie: string })('betterAuth');
const serverLog = async (): Promise<{ method: string; path: string; status?: number }[]> => (await fetch(`${issuer}${REQUEST_LOG_PATH}`)).json();
const browser = (session: string) => ({ cookie: session, origin: ORIGIN, 'x-tokengate-csrf': '1' });

describe('unlink: the access token’s revocation is best effort once the refresh token’s succeeded', () => {
  it('the refresh token revoked (200), the access token then refused as unknown (400): revocation is "revoked"', async () => {
    const { done } = await link('oidc-revoke-all');
    expect(done.status).toBe(303);
    const session = cookieOf(done, '__Host-tg_session')!;
    const before = (await serverLog()).length;
    const unlinked = await worker.fetch(`${ORIGIN}/link/oidc-revoke-all/unlink`, { method: 'POST', headers: browser(session) });
    expect(unlinked.status).toBe(200);
    await expect(unlinked.json()).resolves.toEqual({ vendor: 'oidc-revoke-all', linked: false, revocation: 'revoked' });
    const revocations = (await serverLog()).slice(before).filter((r) => r.path === '/token/revocation');
    expect(revocations.map((r) => r.status)).toEqual([200, 400]);
  });

  it('better-auth: linked with a refresh token, unlinked with "revoked" although its second revocation answers 400', async () => {
    const start = await worker.fetch(`${ORIGIN}/link/better-auth/start`, { redirect: 'manual' });
    expect(start.status).toBe(303);
    // The signed-in test user's browser at better-auth's authorize endpoint (it skips consent for this client).
    const authorized = await fetch(start.headers.get('location')!, { redirect: 'manual', headers: { cookie: betterAuth.sessionCookie } });
    const callback = new URL(authorized.headers.get('location') ?? ((await authorized.json()) as { url: string }).url);
    expect(callback.pathname).toBe('/link/better-auth/callback');
    const done = await worker.fetch(`${ORIGIN}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: cookieOf(start, '__Host-tg_link')! } });
    expect(done.status).toBe(303);
    const session = cookieOf(done, '__Host-tg_session')!;
    const unlinked = await worker.fetch(`${ORIGIN}/link/better-auth/unlink`, { method: 'POST', headers: browser(session) });
    await expect(unlinked.json()).resolves.toEqual({ vendor: 'better-auth', linked: false, revocation: 'revoked' });
  });
});
