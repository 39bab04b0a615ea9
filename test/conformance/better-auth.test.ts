import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  completeAuthorization,
  createDpop,
  createTokenSource,
  introspectToken,
  refreshTokenGrant,
  revokeToken,
  startAuthorization,
  withDpop,
  type Profile,
} from '../../src/index.js';
import { discover } from '../../src/profiles/index.js';
import { startBetterAuth, type BetterAuthServer } from './better-auth-server.js';
import { leaks } from '../helpers/leaks.js';

// better-auth with its OAuth 2.1 provider plugin (@better-auth/oauth-provider), a server nobody here
// wrote: discovery, code + PKCE with iss, refresh with rotation (also concurrent), client credentials,
// revocation, introspection, DPoP, and its error answers as typed errors.

let server: BetterAuthServer;
beforeAll(async () => {
  server = await startBetterAuth();
});
afterAll(() => server.close());

const posts = (path: string) => server.requests.filter((r) => r.method === 'POST' && r.path === `/api/auth/oauth2/${path}`);

/** The signed-in test user's browser navigating to the authorize endpoint: the redirect back, with code, state and iss. */
async function authorize(url: string): Promise<string> {
  let next = new URL(url);
  for (let hops = 0; hops < 5; hops++) {
    const response = await fetch(next, { redirect: 'manual', headers: { cookie: server.sessionCookie, accept: 'text/html', 'sec-fetch-mode': 'navigate' } });
    // better-auth answers a request it does not take for a navigation with JSON: { redirect: true, url }.
    const json = response.headers.get('content-type')?.includes('json') ? ((await response.json()) as { redirect?: boolean; url?: string }) : undefined;
    const location = response.headers.get('location') ?? (json?.redirect ? json.url : undefined);
    if (json === undefined) await response.body?.cancel();
    if (location === undefined || location === null) throw new Error(`authorization stopped at ${next.pathname} with HTTP ${response.status}`);
    next = new URL(location, next);
    if (next.href.startsWith(server.redirectUri)) return next.href;
  }
  throw new Error('authorization did not come back');
}

async function linked(profile: Profile) {
  const tx = await startAuthorization(profile, { redirectUri: server.redirectUri, scope: 'openid offline_access read' });
  return completeAuthorization(profile, tx, await authorize(tx.url));
}

describe('better-auth (OAuth 2.1 provider plugin)', () => {
  it('discovery: endpoints, iss required, and the method chosen for each client', async () => {
    const confidential = await discover(server.issuer, { ...server.confidential });
    expect(confidential).toMatchObject({ tokenUrl: `${server.issuer}/oauth2/token`, revocationUrl: `${server.issuer}/oauth2/revoke`, requireIss: true, clientAuthMethod: 'client_secret_basic' });
    expect((await discover(server.issuer, { ...server.public })).clientAuthMethod).toBe('none');
  });

  it('code + PKCE for a public client, then refresh with rotation: the old refresh token is refused and the token source asks to link again', async () => {
    const profile = await discover(server.issuer, { ...server.public });
    const tokens = await linked(profile);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', refreshToken: expect.any(String) });
    const rotated = await refreshTokenGrant(profile, tokens.refreshToken!);
    expect(rotated.refreshToken).not.toBe(tokens.refreshToken);
    await expect(refreshTokenGrant(profile, tokens.refreshToken!)).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
    let told = 0;
    const source = createTokenSource(profile, { tokens: { ...tokens, expiresAt: Date.now() - 1 }, onLinkRequired: () => (told += 1) });
    await expect(source.getToken()).rejects.toMatchObject({ code: 'ERR_LINK_REQUIRED' });
    expect(told).toBe(1);
  });

  it('20 concurrent callers with an expired token make exactly one refresh', async () => {
    const profile = await discover(server.issuer, { ...server.confidential });
    const tokens = await linked(profile);
    const source = createTokenSource(profile, { tokens: { ...tokens, expiresAt: Date.now() - 1 } });
    const before = posts('token').length;
    const got = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
    expect(posts('token').length - before).toBe(1);
    expect(new Set(got.map((t) => t.accessToken)).size).toBe(1);
  });

  it('client credentials, introspection and revocation with the confidential client', async () => {
    const profile = await discover(server.issuer, { ...server.confidential, scope: 'read' });
    const { accessToken } = await clientCredentialsGrant(profile);
    await expect(introspectToken(profile, accessToken)).resolves.toMatchObject({ active: true, client_id: server.confidential.clientId });
    await revokeToken(profile, accessToken, { hint: 'access_token' });
    await expect(introspectToken(profile, accessToken)).resolves.toEqual({ active: false });
  });

  it('revoking the refresh token takes the access token along; the access token’s revocation then answers 400 invalid_request (RFC 7009 §2.2 says 200)', async () => {
    const profile = await discover(server.issuer, { ...server.confidential });
    const tokens = await linked(profile);
    await revokeToken(profile, tokens.refreshToken!, { hint: 'refresh_token' });
    await expect(introspectToken(profile, tokens.accessToken)).resolves.toEqual({ active: false });
    await expect(revokeToken(profile, tokens.accessToken, { hint: 'access_token' })).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_request', status: 400 });
  });

  it('a public client cannot revoke here (the endpoint lists no "none"): a typed configuration error, nothing sent', async () => {
    const profile = await discover(server.issuer, { ...server.public });
    const tokens = await linked(profile);
    const before = posts('revoke').length;
    await expect(revokeToken(profile, tokens.refreshToken!)).rejects.toMatchObject({ name: 'TokenGateError', code: 'ERR_INVALID_CONFIG' });
    expect(posts('revoke').length).toBe(before);
  });

  it('a wrong client secret is a typed invalid_client that carries no secret', async () => {
    const wrong = 'CANARY-better-auth-wrong-secret-9f1c';
    const profile = await discover(server.issuer, { clientId: server.confidential.clientId, clientSecret: wrong, scope: 'read' });
    const error = await clientCredentialsGrant(profile).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'OAuthError', code: 'invalid_client', status: 401 });
    expect(leaks(error, wrong)).toBe(false);
  });

  it('DPoP: client credentials with a proof get a DPoP-bound token', async () => {
    const plain = await discover(server.issuer, { ...server.confidential, scope: 'read' });
    const tokens = await clientCredentialsGrant(withDpop(plain, await createDpop()));
    expect(tokens.tokenType).toBe('DPoP');
    await expect(introspectToken(plain, tokens.accessToken)).resolves.toMatchObject({ active: true });
  });
});
