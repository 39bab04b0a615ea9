import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  completeAuthorization,
  createDpop,
  createTokenSource,
  introspectToken,
  refreshTokenGrant,
  startAuthorization,
  withDpop,
  type DPoP,
  type Profile,
} from '../../src/index.js';
import { createApiClient } from '../../src/http/index.js';
import { discover } from '../../src/profiles/index.js';
import { CLIENTS, followAuthorization, startAuthServer, type AuthServer } from './auth-server.js';

// DPoP (RFC 9449) against oidc-provider: bound tokens, the AS's refusals, and the nonce dance.

const BOUND = { clientId: 'tokengate-dpop', clientSecret: 'CANARY-dpop-secret-7c1e9a3b5d2f4a6c8e0b1d3f5a7c9e2b' };
const bound = { client_id: BOUND.clientId, client_secret: BOUND.clientSecret, token_endpoint_auth_method: 'client_secret_basic', dpop_bound_access_tokens: true };

let plain: AuthServer;
let nonced: AuthServer;
beforeAll(async () => {
  [plain, nonced] = await Promise.all([startAuthServer({ clients: [bound] }), startAuthServer({ clients: [bound], requireDpopNonce: true })]);
});
afterAll(() => Promise.all([plain.close(), nonced.close()]));

const decode = (jwt: string) => JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
const tokenCalls = (server: AuthServer) => server.requests.filter((r) => r.method === 'POST' && r.path === '/token');

/** A public client linked with DPoP: its tokens (and refresh token) are bound to the key. */
async function linkPublic(server: AuthServer, dpop: DPoP) {
  const profile = withDpop(await discover(server.issuer, { clientId: CLIENTS.public.clientId }), dpop);
  const tx = await startAuthorization(profile, { redirectUri: CLIENTS.redirectUri, scope: 'openid read' });
  return { profile, tokens: await completeAuthorization(profile, tx, await followAuthorization(tx.url)) };
}

describe('DPoP with oidc-provider', () => {
  it('a dpop_bound_access_tokens client gets a DPoP token bound to the key (cnf.jkt), and none without a proof', async () => {
    const dpop = await createDpop();
    const basic = await discover(plain.issuer, BOUND);
    const tokens = await clientCredentialsGrant(withDpop(basic, dpop), { scope: 'read' });
    expect(tokens.tokenType).toBe('DPoP');
    const info = await introspectToken(basic, tokens.accessToken);
    expect(info).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: expect.any(String) } });
    await expect(clientCredentialsGrant(basic, { scope: 'read' })).rejects.toMatchObject({ name: 'OAuthError', status: 400 });
  });

  it('linking, userinfo through createApiClient with a DPoP proof, and a refresh bound to the same key', async () => {
    const dpop = await createDpop();
    const { profile, tokens } = await linkPublic(plain, dpop);
    expect(tokens.tokenType).toBe('DPoP');
    const source = createTokenSource(profile, { tokens });
    const api = createApiClient({ tokenSource: source, prefix: plain.issuer, dpop, retry: 0 });
    await expect(api.get('me').json()).resolves.toEqual({ sub: 'test-user' });
    const proof = decode(plain.requests.at(-1)!.dpop!);
    expect(proof).toMatchObject({ htm: 'GET', htu: `${plain.issuer}/me`, ath: expect.any(String) });
    const refreshed = await refreshTokenGrant(profile, tokens.refreshToken!);
    expect(refreshed.tokenType).toBe('DPoP');
    // The public client's refresh token is bound too: another key cannot use it.
    await expect(refreshTokenGrant(withDpop(profile, await createDpop()), refreshed.refreshToken!)).rejects.toMatchObject({ name: 'OAuthError', status: 400 });
  });

  describe('the AS refuses a bad proof at its userinfo endpoint', () => {
    let dpop: DPoP;
    let accessToken: string;
    const me = (proof: string, token = accessToken) => fetch(`${plain.issuer}/me`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    beforeAll(async () => {
      dpop = await createDpop();
      ({ accessToken } = (await linkPublic(plain, dpop)).tokens);
    });

    it('a good proof passes; the same proof again (reused jti) is a replay', async () => {
      const proof = await dpop.proof('GET', `${plain.issuer}/me`, { accessToken });
      expect((await me(proof)).status).toBe(200);
      const replay = await me(proof);
      expect(replay.status).toBe(401);
      expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/);
      // The token itself is still good: it was the reused jti that was refused.
      expect((await me(await dpop.proof('GET', `${plain.issuer}/me`, { accessToken }))).status).toBe(200);
    });

    it('a wrong htu is refused', async () => {
      const response = await me(await dpop.proof('GET', `${plain.issuer}/other`, { accessToken }));
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/invalid_dpop_proof/);
    });

    it('a missing ath is refused', async () => {
      const response = await me(await dpop.proof('GET', `${plain.issuer}/me`));
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/invalid_dpop_proof/);
    });

    it("another key's proof for the token is refused", async () => {
      const response = await me(await (await createDpop()).proof('GET', `${plain.issuer}/me`, { accessToken }));
      expect(response.status).toBe(401);
    });
  });

  it('a nonce challenge costs exactly one extra token request, and the next request (token or resource) already carries the nonce', async () => {
    const dpop = await createDpop();
    const profile = withDpop(await discover(nonced.issuer, BOUND), dpop);
    const before = tokenCalls(nonced).length;
    await expect(clientCredentialsGrant(profile, { scope: 'read' })).resolves.toMatchObject({ tokenType: 'DPoP' });
    const first = tokenCalls(nonced).slice(before);
    expect(first).toHaveLength(2);
    expect(decode(first[0]!.dpop!)['nonce']).toBeUndefined();
    expect(decode(first[1]!.dpop!)['nonce']).toEqual(expect.any(String));
    expect(decode(first[0]!.dpop!)['jti']).not.toBe(decode(first[1]!.dpop!)['jti']);

    await clientCredentialsGrant(profile, { scope: 'read' });
    const next = tokenCalls(nonced).slice(before + 2);
    expect(next).toHaveLength(1);
    expect(decode(next[0]!.dpop!)['nonce']).toEqual(expect.any(String));

    // Linking and userinfo on the same server, with the same handle: no challenge is left to answer.
    const { tokens } = await linkPublic(nonced, dpop);
    const count = nonced.requests.length;
    const api = createApiClient({ tokenSource: createTokenSource(profile, { tokens }), prefix: nonced.issuer, dpop, retry: 0 });
    await expect(api.get('me').json()).resolves.toEqual({ sub: 'test-user' });
    expect(nonced.requests.length - count).toBe(1);
    expect(decode(nonced.requests.at(-1)!.dpop!)['nonce']).toEqual(expect.any(String));
  });
});
