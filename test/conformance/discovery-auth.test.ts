import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsGrant, introspectToken, revokeToken, type FetchLike } from '../../src/index.js';
import { discover } from '../../src/profiles/index.js';
import { CLIENTS, startAuthServer, type AuthServer } from './auth-server.js';

// discover() and the client authentication a server's metadata lists, against oidc-provider playing
// servers whose metadata says less than they do: one that lists only `none` for its token endpoint
// but takes client secrets (as oauth2-mock-server does), and one whose revocation and introspection
// endpoints list only client_secret_basic (RFC 8414 §2, `*_endpoint_auth_methods_supported`).

let underselling: AuthServer;
let perEndpoint: AuthServer;
beforeAll(async () => {
  [underselling, perEndpoint] = await Promise.all([
    startAuthServer({ metadata: { token_endpoint_auth_methods_supported: ['none'] } }),
    startAuthServer({ metadata: { revocation_endpoint_auth_methods_supported: ['client_secret_basic'], introspection_endpoint_auth_methods_supported: ['client_secret_basic'] } }),
  ]);
});
afterAll(() => Promise.all([underselling.close(), perEndpoint.close()]));

describe('discover(): an explicit auth wins over the metadata, and the profile names its method', () => {
  it('a server that lists only none but takes secrets: auth client_secret_post is used as given and works', async () => {
    const profile = await discover(underselling.issuer, { ...CLIENTS.post, auth: 'client_secret_post' });
    expect(profile.clientAuthMethod).toBe('client_secret_post');
    await expect(clientCredentialsGrant(profile, { scope: 'read' })).resolves.toMatchObject({ tokenType: 'Bearer' });
    const basic = await discover(underselling.issuer, { ...CLIENTS.basic, auth: 'client_secret_basic' });
    await expect(clientCredentialsGrant(basic, { scope: 'read' })).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('without auth the metadata still decides: a secret where only none is listed is refused, and the message says how to override', async () => {
    const error = await discover(underselling.issuer, { ...CLIENTS.basic }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_INVALID_METADATA' });
    expect((error as Error).message).toMatch(/choose auth/);
  });

  it('the method discover() chose, by its registered name', async () => {
    expect((await discover(perEndpoint.issuer, { ...CLIENTS.basic })).clientAuthMethod).toBe('client_secret_basic');
    expect((await discover(perEndpoint.issuer, { ...CLIENTS.basic, auth: 'client_secret_basic_plain' })).clientAuthMethod).toBe('client_secret_basic');
    expect((await discover(perEndpoint.issuer, { clientId: CLIENTS.public.clientId })).clientAuthMethod).toBe('none');
  });
});

describe('revocation and introspection use their endpoint’s own listed methods', () => {
  it('a public client where the endpoints list only client_secret_basic: a typed configuration error, and nothing is sent', async () => {
    let sent = 0;
    const counting: FetchLike = (input, init) => {
      sent += 1;
      return fetch(input, init);
    };
    const profile = await discover(perEndpoint.issuer, { clientId: CLIENTS.public.clientId, fetch: counting });
    sent = 0;
    const revoked = await revokeToken(profile, 'some-access-token').catch((e: unknown) => e);
    expect(revoked).toMatchObject({ name: 'TokenGateError', code: 'ERR_INVALID_CONFIG' });
    expect((revoked as Error).message).toMatch(/revocation endpoint .* takes only client_secret_basic/);
    await expect(introspectToken(profile, 'some-access-token')).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    expect(sent).toBe(0);
  });

  it('a client whose method is listed revokes and introspects as before', async () => {
    const profile = await discover(perEndpoint.issuer, { ...CLIENTS.basic, scope: 'read' });
    const { accessToken } = await clientCredentialsGrant(profile);
    await expect(introspectToken(profile, accessToken)).resolves.toMatchObject({ active: true });
    await revokeToken(profile, accessToken);
    await expect(introspectToken(profile, accessToken)).resolves.toEqual({ active: false });
  });
});
