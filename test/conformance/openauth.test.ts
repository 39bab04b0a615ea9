import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assumeBearer,
  profileGrant,
  completeAuthorization,
  createTokenSource,
  memoryStore,
  refreshTokenGrant,
  startAuthorization,
  type Profile,
} from '../../src/index.js';
import { discover, oauth2 } from '../../src/profiles/index.js';
import { followAuthorization } from './follow.js';
import { OPENAUTH_CLIENTS, startOpenAuth, type OpenAuthServer } from './openauth-server.js';
import { leaks } from '../helpers/leaks.js';

// OpenAuth (@openauthjs/openauth), a server nobody here wrote: discovery, code + PKCE, refresh with
// rotation (also concurrent), client credentials, and its error answers as typed errors. It offers no
// revocation, introspection, DPoP or PAR. Its token answers carry no token_type (RFC 6749 §5.1
// requires one): assumeBearer() is the documented opt-in that takes them as Bearer.

let server: OpenAuthServer;
beforeAll(async () => {
  server = await startOpenAuth();
});
afterAll(() => server.close());

const tokenCalls = () => server.requests.filter((r) => r.method === 'POST' && r.path === '/token').length;

async function linked(profile: Profile) {
  const tx = await startAuthorization(profile, { redirectUri: OPENAUTH_CLIENTS.redirectUri });
  return { tx, callback: await followAuthorization(tx.url) };
}

describe('OpenAuth', () => {
  it('discovery: a public client, its endpoints, and the method chosen', async () => {
    const profile = await discover(server.issuer, { clientId: OPENAUTH_CLIENTS.public.clientId });
    expect(profile).toMatchObject({ tokenUrl: `${server.issuer}/token`, authorizeUrl: `${server.issuer}/authorize`, clientAuthMethod: 'none' });
  });

  it('its token answers have no token_type: refused by default (ERR_INVALID_RESPONSE), taken as Bearer with assumeBearer()', async () => {
    const strict = await discover(server.issuer, { clientId: OPENAUTH_CLIENTS.public.clientId });
    const first = await linked(strict);
    await expect(completeAuthorization(strict, first.tx, first.callback)).rejects.toMatchObject({ code: 'ERR_INVALID_RESPONSE', message: expect.stringMatching(/"token_type"/) });

    const profile = assumeBearer(await discover(server.issuer, { clientId: OPENAUTH_CLIENTS.public.clientId }));
    const { tx, callback } = await linked(profile);
    const tokens = await completeAuthorization(profile, tx, callback);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String), refreshToken: expect.any(String), expiresAt: expect.any(Number) });
  });

  it('code + PKCE: a wrong verifier and a replayed code are typed invalid_grant answers', async () => {
    const profile = assumeBearer(await discover(server.issuer, { clientId: OPENAUTH_CLIENTS.public.clientId }));
    const { tx, callback } = await linked(profile);
    await expect(completeAuthorization(profile, { ...tx, codeVerifier: 'x'.repeat(43) }, callback)).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_grant', status: 400 });
    // OpenAuth consumes the code on first use, even a refused one.
    await expect(completeAuthorization(profile, tx, callback)).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
  });

  it('refresh with rotation: a new refresh token each time, the old one refused, and the token source asks to link again', async () => {
    const profile = assumeBearer(await discover(server.issuer, { clientId: OPENAUTH_CLIENTS.public.clientId }));
    const { tx, callback } = await linked(profile);
    const tokens = await completeAuthorization(profile, tx, callback);
    const rotated = await refreshTokenGrant(profile, tokens.refreshToken!);
    expect(rotated.refreshToken).not.toBe(tokens.refreshToken);
    await expect(refreshTokenGrant(profile, tokens.refreshToken!)).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
    let told = 0;
    const source = createTokenSource(profile, { tokens: { ...tokens, expiresAt: Date.now() - 1 }, onLinkRequired: () => (told += 1) });
    await expect(source.getToken()).rejects.toMatchObject({ code: 'ERR_LINK_REQUIRED' });
    expect(told).toBe(1);
  });

  it('20 concurrent callers with an expired token make exactly one refresh', async () => {
    const profile = assumeBearer(await discover(server.issuer, { clientId: OPENAUTH_CLIENTS.public.clientId }));
    const { tx, callback } = await linked(profile);
    const tokens = await completeAuthorization(profile, tx, callback);
    const store = memoryStore();
    const source = createTokenSource(profile, { tokens: { ...tokens, expiresAt: Date.now() - 1 }, store });
    const before = tokenCalls();
    const got = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
    expect(tokenCalls() - before).toBe(1);
    expect(new Set(got.map((t) => t.accessToken)).size).toBe(1);
    expect(got[0]!.refreshToken).not.toBe(tokens.refreshToken);
  });

  it('client credentials (its provider parameter, the secret in the body), and a wrong secret as a typed error that carries no secret', async () => {
    const machine = (clientSecret: string) =>
      assumeBearer(oauth2({ tokenUrl: `${server.issuer}/token`, clientId: OPENAUTH_CLIENTS.machine.clientId, clientSecret, auth: 'client_secret_post', grant: { grant_type: 'client_credentials', provider: 'auto' } }));
    await expect(createTokenSource(machine(OPENAUTH_CLIENTS.machine.clientSecret)).getToken()).resolves.toMatchObject({ tokenType: 'Bearer' });
    const wrong = 'CANARY-openauth-wrong-secret-2b8d';
    const error = await profileGrant(machine(wrong)).catch((e: unknown) => e);
    // OpenAuth answers an unknown client with a plain-text 400 (its "unknown state" page): a typed HTTP status error.
    expect(error).toMatchObject({ name: 'TokenGateError', code: 'ERR_HTTP_STATUS', status: 400 });
    expect(leaks(error, wrong)).toBe(false);
  });
});
