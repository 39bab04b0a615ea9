import { describe, expect, inject, it } from 'vitest';
import { assumeBearer, clientCredentialsGrant, createTokenSource, introspectToken, memoryStore, OAuthError, refreshTokenGrant, revokeToken } from '../../src/index.js';
import { discover, oauth2 } from '../../src/profiles/index.js';
import { leaks } from '../helpers/leaks.js';

// The core's share of the interop suite, in the runtime this file runs in (Chromium and workerd; Node
// runs the full suites in test/conformance): token requests over real sockets to oidc-provider,
// @node-oauth/oauth2-server, OpenAuth and better-auth, started by the global setup on 127.0.0.1.
const servers = inject('interop');

describe('the core against two real authorization servers, in this runtime', () => {
  it('oidc-provider: discovery, then client_credentials with HTTP Basic and in the body', async () => {
    const basic = await discover(servers.oidcIssuer, { ...servers.oidcBasic });
    expect(basic.tokenUrl).toBe(`${servers.oidcIssuer}/token`);
    await expect(clientCredentialsGrant(basic, { scope: 'read' })).resolves.toMatchObject({ tokenType: 'Bearer', scope: ['read'] });
    const post = await discover(servers.oidcIssuer, { ...servers.oidcPost, auth: 'client_secret_post' });
    await expect(clientCredentialsGrant(post, { scope: ['write'] })).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('@node-oauth/oauth2-server: client_credentials with HTTP Basic and in the body', async () => {
    for (const auth of ['client_secret_basic', 'client_secret_post'] as const) {
      const profile = oauth2({ tokenUrl: servers.nodeTokenUrl, ...servers.nodeBasic, auth });
      await expect(clientCredentialsGrant(profile, { scope: 'read' }), auth).resolves.toMatchObject({ tokenType: 'Bearer', scope: ['read'] });
    }
  });

  it('@node-oauth/oauth2-server: the password grant through a token source, then refresh with rotation; the old refresh token is refused', async () => {
    const profile = oauth2({ tokenUrl: servers.nodeTokenUrl, ...servers.nodeBasic, grant: { type: 'password', ...servers.nodeUser } });
    const first = await createTokenSource(profile, { store: memoryStore() }).getToken();
    expect(first.refreshToken).toBeTruthy();
    const second = await refreshTokenGrant(profile, first.refreshToken!);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const replay = await refreshTokenGrant(profile, first.refreshToken!).catch((e: unknown) => e);
    expect(replay).toMatchObject({ name: 'OAuthError', code: 'invalid_grant' });
  });

  it('a secret with + / = : %: plain Basic works; form-encoded Basic is a typed invalid_client that carries no secret', async () => {
    const plain = oauth2({ tokenUrl: servers.nodeTokenUrl, ...servers.nodeSpecial, auth: 'client_secret_basic_plain' });
    await expect(clientCredentialsGrant(plain)).resolves.toMatchObject({ tokenType: 'Bearer' });
    const encoded = oauth2({ tokenUrl: servers.nodeTokenUrl, ...servers.nodeSpecial, auth: 'client_secret_basic' });
    const error = await clientCredentialsGrant(encoded).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect(leaks(error, servers.nodeSpecial.clientSecret)).toBe(false);
  });

  it('OpenAuth: discovery, and client credentials whose answer has no token_type: refused by default, Bearer with assumeBearer()', async () => {
    const discovered = await discover(servers.openauthIssuer, { clientId: 'tokengate-openauth-spa' });
    expect(discovered).toMatchObject({ tokenUrl: `${servers.openauthIssuer}/token`, clientAuthMethod: 'none' });
    const machine = oauth2({ tokenUrl: discovered.tokenUrl, ...servers.openauthMachine, auth: 'client_secret_post', grant: { grant_type: 'client_credentials', provider: 'auto' } });
    await expect(createTokenSource(machine).getToken()).rejects.toMatchObject({ code: 'ERR_INVALID_RESPONSE' });
    await expect(createTokenSource(assumeBearer(machine)).getToken()).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('better-auth: discovery, client credentials, introspection and revocation', async () => {
    const profile = await discover(servers.betterAuthIssuer, { ...servers.betterAuthClient, scope: 'read' });
    expect(profile.clientAuthMethod).toBe('client_secret_basic');
    const { accessToken, tokenType } = await clientCredentialsGrant(profile);
    expect(tokenType).toBe('Bearer');
    await expect(introspectToken(profile, accessToken)).resolves.toMatchObject({ active: true });
    await revokeToken(profile, accessToken);
    await expect(introspectToken(profile, accessToken)).resolves.toEqual({ active: false });
  });
});
