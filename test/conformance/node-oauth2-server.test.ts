import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsGrant, completeAuthorization, createTokenSource, ErrorCode, memoryStore, OAuthError, refreshTokenGrant, startAuthorization, type Profile } from '../../src/index.js';
import { oauth2, type OAuth2Options } from '../../src/profiles/index.js';
import { NODE_CLIENTS, startNodeOAuthServer, type NodeOAuthServer } from './node-oauth2-server.js';
import { leaks } from '../helpers/leaks.js';

// The core against @node-oauth/oauth2-server 5.3, a second authorization server nobody here wrote,
// on 127.0.0.1 over real sockets.
let server: NodeOAuthServer;
beforeAll(async () => {
  server = await startNodeOAuthServer();
});
afterAll(() => server.close());

const profile = (client: { clientId: string; clientSecret: string }, extra: Partial<OAuth2Options> = {}): Profile =>
  oauth2({ tokenUrl: server.tokenUrl, authorizeUrl: server.authorizeUrl, ...client, ...extra });

/** Runs the authorization step as the server's (always consenting) user, and returns the callback URL. */
async function authorize(url: string): Promise<string> {
  const answer = await fetch(url, { redirect: 'manual' });
  await answer.body?.cancel();
  const location = answer.headers.get('location');
  if (answer.status !== 302 || location === null) throw new Error(`authorize answered ${answer.status}`);
  return location;
}

describe('conformance with @node-oauth/oauth2-server', () => {
  it('client_credentials with HTTP Basic', async () => {
    const tokens = await clientCredentialsGrant(profile(NODE_CLIENTS.basic), { scope: 'read' });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: ['read'] });
    expect(tokens.expiresAt).toBeGreaterThan(Date.now() + 500_000);
  });

  it('client_credentials with credentials in the body', async () => {
    const tokens = await clientCredentialsGrant(profile(NODE_CLIENTS.basic, { auth: 'client_secret_post' }), { scope: ['read', 'write'] });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: ['read', 'write'] });
  });

  it('a secret with + / = : % works with plain Basic and in the body', async () => {
    for (const auth of ['client_secret_basic_plain', 'client_secret_post'] as const) {
      await expect(clientCredentialsGrant(profile(NODE_CLIENTS.special, { auth }))).resolves.toMatchObject({ tokenType: 'Bearer' });
    }
  });

  it('that secret form-encoded per RFC 6749 §2.3.1 is refused by this server (it does not decode): a typed invalid_client without the secret', async () => {
    const before = server.tokenRequests;
    const error = await clientCredentialsGrant(profile(NODE_CLIENTS.special, { auth: 'client_secret_basic' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect(leaks(error, NODE_CLIENTS.special.clientSecret)).toBe(false);
    expect(leaks(error, encodeURIComponent(NODE_CLIENTS.special.clientSecret))).toBe(false);
    expect(server.tokenRequests - before).toBe(1);
  });

  it('the password grant, typed, through a token source; a wrong password is invalid_grant without the password', async () => {
    const source = createTokenSource(profile(NODE_CLIENTS.basic, { grant: { type: 'password', ...NODE_CLIENTS.user } }), { store: memoryStore() });
    const tokens = await source.getToken();
    expect(tokens).toMatchObject({ tokenType: 'Bearer' });
    expect(tokens.refreshToken).toBeTruthy();
    const wrong = `${NODE_CLIENTS.user.password}-WRONG`;
    const refused = createTokenSource(profile(NODE_CLIENTS.basic, { grant: { type: 'password', username: NODE_CLIENTS.user.username, password: wrong } }));
    const error = await refused.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400 });
    expect(leaks(error, wrong)).toBe(false);
  });

  it('refresh rotates the refresh token, and the old one is then refused', async () => {
    const password = profile(NODE_CLIENTS.basic, { grant: { type: 'password', ...NODE_CLIENTS.user } });
    const first = await createTokenSource(password).getToken();
    const second = await refreshTokenGrant(password, first.refreshToken!);
    expect(second.refreshToken).toBeTruthy();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    await expect(refreshTokenGrant(password, first.refreshToken!)).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
  });

  it('a token source seeded after linking refreshes through rotation and stores the new refresh token', async () => {
    const basic = profile(NODE_CLIENTS.basic);
    const tx = await startAuthorization(basic, { redirectUri: NODE_CLIENTS.redirectUri, scope: 'read' });
    const linked = await completeAuthorization(basic, tx, await authorize(tx.url));
    const store = memoryStore();
    const source = createTokenSource(basic, { tokens: linked, store, key: 'linked' });
    source.invalidate(linked.accessToken);
    const fresh = await source.getToken();
    expect(fresh.accessToken).not.toBe(linked.accessToken);
    expect((await store.get('linked'))?.refreshToken).toBe(fresh.refreshToken);
    expect(fresh.refreshToken).not.toBe(linked.refreshToken);
  });

  for (const auth of ['client_secret_basic_plain', 'client_secret_post'] as const) {
    it(`authorization code + PKCE S256 with the special secret (${auth})`, async () => {
      const special = profile(NODE_CLIENTS.special, { auth });
      const tx = await startAuthorization(special, { redirectUri: NODE_CLIENTS.redirectUri, scope: ['read'] });
      const callback = await authorize(tx.url);
      const tokens = await completeAuthorization(special, tx, callback);
      expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: ['read'] });
      expect(tokens.refreshToken).toBeTruthy();
    });
  }

  it('a wrong PKCE verifier and a reused code end in invalid_grant', async () => {
    const basic = profile(NODE_CLIENTS.basic);
    const tx = await startAuthorization(basic, { redirectUri: NODE_CLIENTS.redirectUri });
    const callback = await authorize(tx.url);
    const wrong = { ...tx, codeVerifier: `${tx.codeVerifier.slice(0, -1)}${tx.codeVerifier.endsWith('A') ? 'B' : 'A'}` };
    const error = await completeAuthorization(basic, wrong, callback).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
    expect(leaks(error, wrong.codeVerifier)).toBe(false);
    const tx2 = await startAuthorization(basic, { redirectUri: NODE_CLIENTS.redirectUri });
    const callback2 = await authorize(tx2.url);
    await completeAuthorization(basic, tx2, callback2);
    await expect(completeAuthorization(basic, tx2, callback2)).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
  });

  it('a token source makes one request for 25 concurrent callers', async () => {
    const before = server.tokenRequests;
    const source = createTokenSource(profile(NODE_CLIENTS.basic));
    const tokens = await Promise.all(Array.from({ length: 25 }, () => source.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(server.tokenRequests - before).toBe(1);
  });

  it('a callback with an iss, to a profile that names no issuer, is ERR_ISSUER_UNKNOWN and never exchanged', async () => {
    const basic = profile(NODE_CLIENTS.basic);
    const tx = await startAuthorization(basic, { redirectUri: NODE_CLIENTS.redirectUri });
    const callback = new URL(await authorize(tx.url));
    callback.searchParams.set('iss', server.url);
    const before = server.tokenRequests;
    await expect(completeAuthorization(basic, tx, callback)).rejects.toMatchObject({ code: ErrorCode.ISSUER_UNKNOWN });
    expect(server.tokenRequests).toBe(before);
  });
});
