import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  completeAuthorization,
  createTokenSource,
  ErrorCode,
  memoryStore,
  OAuthError,
  refreshTokenGrant,
  startAuthorization,
  type Profile,
} from '../../src/index.js';
import { discover, oauth2 } from '../../src/profiles/index.js';
import { CLIENTS, followAuthorization, startAuthServer, type AuthServer } from './auth-server.js';

// The core against panva's oidc-provider, an authorization server nobody here wrote, on 127.0.0.1.
let server: AuthServer;
let basic: Profile;
beforeAll(async () => {
  server = await startAuthServer();
  basic = await discover(server.issuer, { clientId: CLIENTS.basic.clientId, clientSecret: CLIENTS.basic.clientSecret, scope: ['read', 'write'] });
});
afterAll(() => server.close());

const redirectUri = CLIENTS.redirectUri;

async function link(profile: Profile) {
  const tx = await startAuthorization(profile, { redirectUri, scope: ['read', 'write'] });
  const callback = await followAuthorization(tx.url);
  return { tx, callback };
}

describe('conformance with oidc-provider', () => {
  it('discovers the server: endpoints, Basic by default, RFC 9207 iss required', () => {
    expect(basic.tokenUrl).toBe(`${server.issuer}/token`);
    expect(basic.authorizeUrl).toBe(`${server.issuer}/auth`);
    expect(basic.issuer).toBe(server.issuer);
    expect(basic.requireIss).toBe(true);
  });

  it('client_credentials with HTTP Basic', async () => {
    const tokens = await clientCredentialsGrant(basic, { scope: ['read'] });
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.accessToken.length).toBeGreaterThan(20);
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    expect(tokens.scope).toEqual(['read']);
  });

  it('client_credentials with credentials in the body', async () => {
    const post = await discover(server.issuer, { clientId: CLIENTS.post.clientId, clientSecret: CLIENTS.post.clientSecret, auth: 'client_secret_post' });
    const tokens = await clientCredentialsGrant(post, { scope: ['write'] });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: ['write'] });
  });

  it('a secret with + / = : %: RFC 6749 §2.3.1 form-encoded Basic works; the plain variant is what this server refuses', async () => {
    const special = (auth: 'client_secret_basic' | 'client_secret_basic_plain') =>
      discover(server.issuer, { clientId: CLIENTS.special.clientId, clientSecret: CLIENTS.special.clientSecret, auth });
    await expect(clientCredentialsGrant(await special('client_secret_basic'), { scope: ['read'] })).resolves.toMatchObject({ tokenType: 'Bearer' });
    const error = await clientCredentialsGrant(await special('client_secret_basic_plain'), { scope: ['read'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'OAuthError', code: 'invalid_client', status: 401 });
    expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain(CLIENTS.special.clientSecret);
  });

  it('a token source makes one request for many concurrent callers', async () => {
    const before = server.tokenRequests;
    const source = createTokenSource(basic, { store: memoryStore() });
    const tokens = await Promise.all(Array.from({ length: 25 }, () => source.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(server.tokenRequests - before).toBe(1);
  });

  it('the full authorization code + PKCE flow, confidential client', async () => {
    const { tx, callback } = await link(basic);
    const params = new URL(callback).searchParams;
    expect(params.get('iss')).toBe(server.issuer);
    const tokens = await completeAuthorization(basic, tx, callback);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: ['read', 'write'] });
    expect(tokens.refreshToken).toBeTruthy();
  });

  it('the full flow for a public client (PKCE, no secret)', async () => {
    const spa = await discover(server.issuer, { clientId: CLIENTS.public.clientId });
    const { tx, callback } = await link(spa);
    const tokens = await completeAuthorization(spa, tx, callback);
    expect(tokens.refreshToken).toBeTruthy();
  });

  it('refresh rotates the refresh token, and the old one is then refused', async () => {
    const { tx, callback } = await link(basic);
    const first = await completeAuthorization(basic, tx, callback);
    const second = await refreshTokenGrant(basic, first.refreshToken!);
    expect(second.refreshToken).toBeTruthy();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    const replay = await refreshTokenGrant(basic, first.refreshToken!).catch((e: unknown) => e);
    expect(replay).toBeInstanceOf(OAuthError);
    expect(replay).toMatchObject({ code: 'invalid_grant', status: 400 });
  });

  it('a token source seeded after linking refreshes through rotation and stores the new refresh token', async () => {
    const { tx, callback } = await link(basic);
    const linked = await completeAuthorization(basic, tx, callback);
    const store = memoryStore();
    const source = createTokenSource(basic, { tokens: linked, store, key: 'linked' });
    source.invalidate(linked.accessToken);
    const fresh = await source.getToken();
    expect(fresh.accessToken).not.toBe(linked.accessToken);
    const stored = await store.get('linked');
    expect(stored?.refreshToken).toBe(fresh.refreshToken);
    expect(stored?.refreshToken).not.toBe(linked.refreshToken);
  });

  it('a refused refresh token is terminal: link required, stored set cleared, no retry', async () => {
    const { tx, callback } = await link(basic);
    const linked = await completeAuthorization(basic, tx, callback);
    await refreshTokenGrant(basic, linked.refreshToken!); // rotates: the linked refresh token is now dead
    const store = memoryStore();
    const signals: string[] = [];
    const source = createTokenSource(basic, { tokens: { ...linked, expiresAt: 0 }, store, key: 'dead', onLinkRequired: (e) => signals.push(e.code) });
    const before = server.tokenRequests;
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.LINK_REQUIRED });
    expect(server.tokenRequests - before).toBe(1);
    expect(signals).toEqual([ErrorCode.LINK_REQUIRED]);
    await expect(store.get('dead')).resolves.toBeUndefined();
  });

  it('a wrong verifier ends in invalid_grant', async () => {
    const { tx, callback } = await link(basic);
    const wrong = { ...tx, codeVerifier: `${tx.codeVerifier.slice(0, -1)}${tx.codeVerifier.endsWith('A') ? 'B' : 'A'}` };
    await expect(completeAuthorization(basic, wrong, callback)).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
  });

  it('a reused code ends in invalid_grant', async () => {
    const { tx, callback } = await link(basic);
    await completeAuthorization(basic, tx, callback);
    const code = new URL(callback).searchParams.get('code')!;
    const again = authorizationCodeGrant(basic, { code, codeVerifier: tx.codeVerifier, redirectUri });
    await expect(again).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
  });

  it('a wrong client secret ends in invalid_client, and the secret is not in the error', async () => {
    const wrongSecret = `${CLIENTS.basic.clientSecret}-WRONG`;
    const profile = oauth2({ tokenUrl: basic.tokenUrl, clientId: CLIENTS.basic.clientId, clientSecret: wrongSecret });
    const error = await clientCredentialsGrant(profile).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect(`${String(error)} ${JSON.stringify(error)} ${(error as Error).stack}`).not.toContain(wrongSecret);
  });

  it('a callback with a forged iss or state never reaches the token endpoint', async () => {
    const { tx, callback } = await link(basic);
    const forgedIss = new URL(callback);
    forgedIss.searchParams.set('iss', 'http://127.0.0.1:1/');
    const forgedState = new URL(callback);
    forgedState.searchParams.set('state', 'forged');
    const noIss = new URL(callback);
    noIss.searchParams.delete('iss');
    const before = server.tokenRequests;
    await expect(completeAuthorization(basic, tx, forgedIss)).rejects.toMatchObject({ code: ErrorCode.ISSUER_MISMATCH });
    await expect(completeAuthorization(basic, tx, forgedState)).rejects.toMatchObject({ code: ErrorCode.STATE_MISMATCH });
    await expect(completeAuthorization(basic, tx, noIss)).rejects.toMatchObject({ code: ErrorCode.ISSUER_MISSING });
    expect(server.tokenRequests).toBe(before);
  });
});
