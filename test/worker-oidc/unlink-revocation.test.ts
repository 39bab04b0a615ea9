import { describe, expect, inject, it } from 'vitest';
import { REQUEST_LOG_PATH } from '../conformance/request-log.js';
import { cookieOf, link, ORIGIN, worker } from './helpers.js';

// Unlink at a server that revokes the access token along with the refresh token (RFC 7009 §2.1
// allows it) and then refuses the second revocation with 400 invalid_request "token not found" (as
// better-auth does; §2.2 says 200): everything was revoked, so the answer says revoked.

const issuer = (inject as unknown as (key: 'oidcStrictRevocationIssuer') => string)('oidcStrictRevocationIssuer');
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
});
