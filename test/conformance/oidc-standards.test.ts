import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  completeAuthorization,
  importClientKey,
  introspectToken,
  refreshTokenGrant,
  revokeToken,
  startAuthorization,
  type Profile,
} from '../../src/index.js';
import { discover, oauth2 } from '../../src/profiles/index.js';
import { CLIENTS, followAuthorization, startAuthServer, type AuthServer } from './auth-server.js';

// Revocation, introspection and JWT client authentication against oidc-provider with those features on.

const SECRET_JWT = { clientId: 'tokengate-secret-jwt', clientSecret: 'CANARY-hs256-secret-5d1f9a3c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f' };

async function keyPair(algorithm: 'ES256' | 'RS256') {
  const params = algorithm === 'ES256'
    ? { name: 'ECDSA', namedCurve: 'P-256' }
    : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const pair = (await crypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
  const { kty, crv, x, y, n, e } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const publicJwk = { kty, crv, x, y, n, e, alg: algorithm, use: 'sig', kid: `${algorithm.toLowerCase()}-1` };
  return { pair, publicJwk, privateJwk: { ...(await crypto.subtle.exportKey('jwk', pair.privateKey)), kid: publicJwk.kid } };
}

function pem(der: ArrayBuffer): string {
  const base64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  return `-----BEGIN PRIVATE KEY-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

let server: AuthServer;
let es256: Awaited<ReturnType<typeof keyPair>>;
let rs256: Awaited<ReturnType<typeof keyPair>>;
let basic: Profile;

beforeAll(async () => {
  [es256, rs256] = await Promise.all([keyPair('ES256'), keyPair('RS256')]);
  server = await startAuthServer({
    clients: [
      { client_id: 'tokengate-pkjwt-es256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [es256.publicJwk] } },
      { client_id: 'tokengate-pkjwt-rs256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256', jwks: { keys: [rs256.publicJwk] } },
      { client_id: SECRET_JWT.clientId, client_secret: SECRET_JWT.clientSecret, token_endpoint_auth_method: 'client_secret_jwt' },
    ],
  });
  basic = await discover(server.issuer, { clientId: CLIENTS.basic.clientId, clientSecret: CLIENTS.basic.clientSecret, scope: ['read'] });
});
afterAll(() => server.close());

async function linkedTokens(profile: Profile) {
  const tx = await startAuthorization(profile, { redirectUri: CLIENTS.redirectUri, scope: ['read'] });
  return completeAuthorization(profile, tx, await followAuthorization(tx.url));
}

describe('revocation (RFC 7009) and introspection (RFC 7662)', () => {
  it('discover() keeps both endpoints on the profile', () => {
    expect(basic.revocationUrl).toBe(`${server.issuer}/token/revocation`);
    expect(basic.introspectionUrl).toBe(`${server.issuer}/token/introspection`);
  });

  it('an access token is active, then revoked, then introspection says inactive', async () => {
    const { accessToken } = await clientCredentialsGrant(basic);
    await expect(introspectToken(basic, accessToken, { hint: 'access_token' })).resolves.toMatchObject({ active: true, client_id: CLIENTS.basic.clientId, scope: 'read' });
    await revokeToken(basic, accessToken, { hint: 'access_token' });
    await expect(introspectToken(basic, accessToken)).resolves.toEqual({ active: false });
  });

  it('a linked refresh token revoked with oauth2({ revocationUrl, introspectionUrl }) is inactive and refuses to refresh', async () => {
    const profile = oauth2({
      clientId: CLIENTS.post.clientId, clientSecret: CLIENTS.post.clientSecret, auth: 'client_secret_post', issuer: server.issuer,
      tokenUrl: basic.tokenUrl, authorizeUrl: basic.authorizeUrl!, revocationUrl: `${server.issuer}/token/revocation`, introspectionUrl: `${server.issuer}/token/introspection`,
    });
    const { refreshToken } = await linkedTokens(profile);
    await expect(introspectToken(profile, refreshToken!, { hint: 'refresh_token' })).resolves.toMatchObject({ active: true, client_id: CLIENTS.post.clientId });
    await revokeToken(profile, refreshToken!, { hint: 'refresh_token' });
    await expect(introspectToken(profile, refreshToken!, { hint: 'refresh_token' })).resolves.toEqual({ active: false });
    await expect(refreshTokenGrant(profile, refreshToken!)).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('a wrong client secret is a typed invalid_client that names neither the secret nor the token', async () => {
    const { accessToken } = await clientCredentialsGrant(basic);
    const wrong = oauth2({ clientId: CLIENTS.basic.clientId, clientSecret: 'CANARY-wrong-secret-1234', tokenUrl: basic.tokenUrl, revocationUrl: basic.revocationUrl!, introspectionUrl: basic.introspectionUrl! });
    for (const call of [revokeToken, introspectToken]) {
      const error = await call(wrong, accessToken).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'OAuthError', code: 'invalid_client', status: 401 });
      expect(`${String(error)} ${JSON.stringify(error)}`).not.toMatch(/CANARY|undefined/);
      expect(String(error)).not.toContain(accessToken);
    }
  });

  it('a profile without the endpoint fails with ERR_INVALID_CONFIG before any request', async () => {
    const bare = oauth2({ clientId: 'x', clientSecret: 's', tokenUrl: basic.tokenUrl });
    const before = server.requests.length;
    await expect(revokeToken(bare, 'token')).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    await expect(introspectToken(bare, 'token')).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    expect(server.requests.length).toBe(before);
  });
});

describe('JWT client authentication (RFC 7523, OpenID Connect Core §9)', () => {
  const jwtProfile = async (clientId: string, clientKey: Awaited<ReturnType<typeof importClientKey>>, assertionAudience?: 'issuer') =>
    discover(server.issuer, { clientId, clientKey, ...(assertionAudience ? { assertionAudience } : {}) });

  it('private_key_jwt with an ES256 JWK gets tokens, revokes and introspects', async () => {
    const profile = await jwtProfile('tokengate-pkjwt-es256', await importClientKey(es256.privateJwk));
    const { accessToken } = await clientCredentialsGrant(profile, { scope: 'read' });
    await expect(introspectToken(profile, accessToken)).resolves.toMatchObject({ active: true, client_id: 'tokengate-pkjwt-es256' });
    await revokeToken(profile, accessToken);
    await expect(introspectToken(profile, accessToken)).resolves.toEqual({ active: false });
  });

  it('private_key_jwt with an RS256 PKCS#8 PEM gets tokens, with aud = the issuer as well', async () => {
    const key = await importClientKey(pem(await crypto.subtle.exportKey('pkcs8', rs256.pair.privateKey)), { kid: rs256.publicJwk.kid });
    for (const audience of [undefined, 'issuer'] as const) {
      const profile = await jwtProfile('tokengate-pkjwt-rs256', key, audience);
      await expect(clientCredentialsGrant(profile, { scope: 'read' })).resolves.toMatchObject({ tokenType: 'Bearer' });
    }
  });

  it('the assertion: iss = sub = client id, aud, fresh jti, iat, exp 60 s later, alg of the key', async () => {
    const bodies: URLSearchParams[] = [];
    const spy = (input: string | URL | Request, init?: RequestInit) => {
      bodies.push(new URLSearchParams(String(init?.body)));
      return fetch(input, init);
    };
    const profile = await discover(server.issuer, { clientId: 'tokengate-pkjwt-es256', clientKey: await importClientKey(es256.privateJwk), fetch: spy });
    await clientCredentialsGrant(profile);
    await clientCredentialsGrant(profile);
    const claims = bodies.slice(-2).map((body) => {
      expect(body.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const [header, payload] = body.get('client_assertion')!.split('.').slice(0, 2).map((part) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))));
      expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'es256-1' });
      return payload;
    });
    for (const payload of claims) {
      expect(payload).toMatchObject({ iss: 'tokengate-pkjwt-es256', sub: 'tokengate-pkjwt-es256', aud: `${server.issuer}/token` });
      expect(payload.exp - payload.iat).toBe(60);
      expect(Math.abs(payload.iat - Date.now() / 1000)).toBeLessThan(5);
    }
    expect(claims[0].jti).not.toBe(claims[1].jti);
  });

  it('a key the client did not register is refused (invalid_client)', async () => {
    const other = await keyPair('ES256');
    const profile = await jwtProfile('tokengate-pkjwt-es256', await importClientKey(other.privateJwk));
    await expect(clientCredentialsGrant(profile)).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_client' });
  });

  it('client_secret_jwt (HS256): from importClientKey({ secret }), and chosen by discover() for a secret alone', async () => {
    const explicit = oauth2({ clientId: SECRET_JWT.clientId, clientKey: await importClientKey({ secret: SECRET_JWT.clientSecret }), tokenUrl: basic.tokenUrl });
    await expect(clientCredentialsGrant(explicit, { scope: 'read' })).resolves.toMatchObject({ tokenType: 'Bearer' });
    // This server lists client_secret_basic first; a client registered for client_secret_jwt asks for it.
    const chosen = await discover(server.issuer, { ...SECRET_JWT, auth: 'client_secret_jwt' });
    await expect(clientCredentialsGrant(chosen, { scope: 'read' })).resolves.toMatchObject({ tokenType: 'Bearer' });
    const wrong = oauth2({ clientId: SECRET_JWT.clientId, clientKey: await importClientKey({ secret: `${SECRET_JWT.clientSecret}x` }), tokenUrl: basic.tokenUrl });
    await expect(clientCredentialsGrant(wrong)).rejects.toMatchObject({ code: 'invalid_client' });
  });
});

describe('pushed authorization requests (RFC 9126)', () => {
  let strict: AuthServer;
  beforeAll(async () => {
    strict = await startAuthServer({ requirePar: true, clients: [{ client_id: 'tokengate-pkjwt-es256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [es256.publicJwk] } }] });
  });
  afterAll(() => strict.close());

  const onlyReference = (url: string, clientId: string) => {
    const query = new URL(url).searchParams;
    expect([...query.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(query.get('client_id')).toBe(clientId);
    expect(query.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
  };

  it('par: true pushes (with Basic), the browser URL carries only client_id + request_uri, and the flow completes', async () => {
    expect(basic.parUrl).toBe(`${server.issuer}/request`);
    expect(basic.requirePar).toBe(false);
    const before = server.requests.length;
    const tx = await startAuthorization(basic, { redirectUri: CLIENTS.redirectUri, scope: ['read'], par: true });
    expect(server.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /request']);
    onlyReference(tx.url, CLIENTS.basic.clientId);
    const callback = await followAuthorization(tx.url);
    await expect(completeAuthorization(basic, tx, callback)).resolves.toMatchObject({ tokenType: 'Bearer', scope: ['read'] });
  });

  it('without par (and a server that does not require it) nothing is pushed', async () => {
    const before = server.requests.length;
    const tx = await startAuthorization(basic, { redirectUri: CLIENTS.redirectUri });
    expect(server.requests.length).toBe(before);
    expect(new URL(tx.url).searchParams.get('code_challenge')).toBeTruthy();
  });

  it('a server that requires PAR gets every request pushed, with the client assertion; an unpushed one is refused', async () => {
    const profile = await discover(strict.issuer, { clientId: 'tokengate-pkjwt-es256', clientKey: await importClientKey(es256.privateJwk) });
    expect(profile.requirePar).toBe(true);
    const before = strict.requests.length;
    const tx = await startAuthorization(profile, { redirectUri: CLIENTS.redirectUri, scope: ['read'] });
    expect(strict.requests.slice(before).map((r) => r.path)).toEqual(['/request']);
    onlyReference(tx.url, 'tokengate-pkjwt-es256');
    await expect(completeAuthorization(profile, tx, await followAuthorization(tx.url))).resolves.toMatchObject({ tokenType: 'Bearer' });

    // par: false is refused before anything is sent; a plain URL made without the PAR hook, by the server.
    const count = strict.requests.length;
    await expect(startAuthorization(profile, { redirectUri: CLIENTS.redirectUri, scope: ['read'], par: false })).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    expect(strict.requests.length).toBe(count);
    const unpushed = await startAuthorization({ ...profile, pushAuthorization: undefined, requirePar: false }, { redirectUri: CLIENTS.redirectUri, scope: ['read'] });
    const refused = new URL(await followAuthorization(unpushed.url)).searchParams;
    expect(refused.get('error')).toBe('invalid_request');
  });

  it('a refused push is a typed OAuthError that names no secret, and nothing reaches the browser', async () => {
    const wrong = await discover(server.issuer, { clientId: CLIENTS.basic.clientId, clientSecret: 'CANARY-wrong-secret-par-1' });
    const error = await startAuthorization(wrong, { redirectUri: CLIENTS.redirectUri, par: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'OAuthError', code: 'invalid_client', status: 401 });
    expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain('CANARY');
  });

  it('par: true on a profile without a PAR endpoint is a configuration error', async () => {
    const bare = oauth2({ clientId: 'x', tokenUrl: basic.tokenUrl, authorizeUrl: basic.authorizeUrl! });
    await expect(startAuthorization(bare, { redirectUri: CLIENTS.redirectUri, par: true })).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
  });
});
