import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  completeAuthorization,
  createDpop,
  createTokenSource,
  importClientKey,
  introspectToken,
  revokeToken,
  startAuthorization,
  withDpop,
  withPar,
  type FetchLike,
  type Profile,
} from '../../src/index.js';
import { discover } from '../../src/profiles/index.js';
import { CLIENTS, followAuthorization, startAuthServer, type AuthServer } from './auth-server.js';

// private_key_jwt + DPoP + PAR against an oidc-provider that requires DPoP nonces at every endpoint
// (RFC 9449 §8): the README's sketch for a server of your own, end to end. A nonce challenge is retried
// once; a JWT client assertion is good for one request (RFC 7523 §3, jti), so the retry carries a new one.

const CLIENT_ID = 'tokengate-jwt-dpop-par';

let server: AuthServer;
let privateJwk: JsonWebKey;

beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  privateJwk = { ...(await crypto.subtle.exportKey('jwk', pair.privateKey)) };
  server = await startAuthServer({
    requireDpopNonce: true,
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ kty, crv, x, y, alg: 'ES256', use: 'sig', kid: 'jwt-dpop-par-1' }] },
        dpop_bound_access_tokens: true,
        // A per-client requirement: the server's metadata does not show it.
        require_pushed_authorization_requests: true,
      },
    ],
  });
});
afterAll(() => server.close());

const decode = (jwt: string) => JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;

/** Every request body the client sent (each attempt, after DPoP), by path. */
function recording(): { fetch: FetchLike; sent: { path: string; assertion: string | null }[] } {
  const sent: { path: string; assertion: string | null }[] = [];
  const fetchLike: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    if (request.method === 'POST') sent.push({ path: new URL(request.url).pathname, assertion: new URLSearchParams(await request.clone().text()).get('client_assertion') });
    return fetch(request);
  };
  return { fetch: fetchLike, sent };
}

async function profileWith(fetchLike: FetchLike): Promise<Profile> {
  const clientKey = await importClientKey({ ...privateJwk, kid: 'jwt-dpop-par-1' } as Parameters<typeof importClientKey>[0]);
  return withDpop(await discover(server.issuer, { clientId: CLIENT_ID, clientKey, fetch: fetchLike }), await createDpop());
}

describe('private_key_jwt + DPoP + PAR at a server that requires DPoP nonces', () => {
  it('PAR, the code exchange, a refresh, introspection and revocation each succeed; every attempt carries its own assertion (fresh jti)', async () => {
    const { fetch: fetchLike, sent } = recording();
    const profile = await profileWith(fetchLike);
    const before = server.requests.length;
    const tx = await startAuthorization(profile, { redirectUri: CLIENTS.redirectUri, scope: 'openid read', par: true });
    expect(new URL(tx.url).searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const tokens = await completeAuthorization(profile, tx, await followAuthorization(tx.url));
    expect(tokens.tokenType).toBe('DPoP');
    const source = createTokenSource(profile, { tokens: { ...tokens, expiresAt: Date.now() - 1 } });
    const refreshed = await source.getToken();
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    await expect(introspectToken(profile, refreshed.accessToken)).resolves.toMatchObject({ active: true, token_type: 'DPoP' });
    await revokeToken(profile, refreshed.refreshToken!, { hint: 'refresh_token' });

    // The server asked for a nonce at PAR (the first DPoP request it saw): one retry there, none after.
    const posts = server.requests.slice(before).filter((r) => r.method === 'POST');
    expect(posts.map((r) => [r.path, r.status])).toEqual([
      ['/request', 400],
      ['/request', 201],
      ['/token', 200],
      ['/token', 200],
      ['/token/introspection', 200],
      ['/token/revocation', 200],
    ]);
    expect(sent.map((s) => s.path)).toEqual(posts.map((r) => r.path));
    const jtis = sent.map((s) => decode(s.assertion!)['jti']);
    expect(new Set(jtis).size).toBe(sent.length);
  });

  it('a nonce challenge at the token endpoint is answered with a new assertion, and the exchange succeeds', async () => {
    const { fetch: fetchLike, sent } = recording();
    const dpop = await createDpop();
    const clientKey = await importClientKey({ ...privateJwk, kid: 'jwt-dpop-par-1' } as Parameters<typeof importClientKey>[0]);
    const discovered = await discover(server.issuer, { clientId: CLIENT_ID, clientKey, fetch: fetchLike });
    const tx = await startAuthorization(withDpop(discovered, dpop), { redirectUri: CLIENTS.redirectUri, scope: 'openid read', par: true });
    const callback = await followAuthorization(tx.url);
    // The same key with no nonce learned yet (a restarted process): the token endpoint asks for one.
    const restarted = withDpop(discovered, await createDpop({ keyPair: dpop.keyPair }));
    const before = server.requests.length;
    const start = sent.length;
    await expect(completeAuthorization(restarted, tx, callback)).resolves.toMatchObject({ tokenType: 'DPoP' });
    const posts = server.requests.slice(before).filter((r) => r.method === 'POST');
    expect(posts.map((r) => [r.path, r.status])).toEqual([
      ['/token', 400],
      ['/token', 200],
    ]);
    const exchange = sent.slice(start);
    expect(exchange).toHaveLength(2);
    expect(decode(exchange[0]!.assertion!)['jti']).not.toBe(decode(exchange[1]!.assertion!)['jti']);
  });

  it('a 503 and a network failure before the server are retried by the token source, each attempt with its own assertion', async () => {
    const { fetch: recorded, sent } = recording();
    let faults = 0;
    // Faults in front of the real server: the first two refresh attempts never reach it.
    const faulty: FetchLike = async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname === '/token' && (await request.clone().text()).includes('grant_type=refresh_token') && faults < 2) {
        faults += 1;
        sent.push({ path: 'fault', assertion: new URLSearchParams(await request.clone().text()).get('client_assertion') });
        if (faults === 1) return new Response('busy', { status: 503, headers: { 'retry-after': '0' } });
        throw new TypeError('fetch failed');
      }
      return recorded(request);
    };
    const profile = await profileWith(faulty);
    const tx = await startAuthorization(profile, { redirectUri: CLIENTS.redirectUri, scope: 'openid read', par: true });
    const tokens = await completeAuthorization(profile, tx, await followAuthorization(tx.url));
    const source = createTokenSource(profile, { tokens: { ...tokens, expiresAt: Date.now() - 1 }, sleep: () => Promise.resolve() });
    await expect(source.getToken()).resolves.toMatchObject({ tokenType: 'DPoP' });
    expect(faults).toBe(2);
    const jtis = sent.map((s) => decode(s.assertion!)['jti']);
    expect(new Set(jtis).size).toBe(sent.length);
  });
});

describe('par: false where PAR is required', () => {
  it('a client the server requires to push (not in its metadata): withPar(required) refuses par: false before anything is sent, and pushes by default', async () => {
    const profile = await profileWith(fetch);
    // discover() cannot see a per-client requirement: the server's metadata does not require PAR.
    expect(profile.requirePar).toBe(false);
    const required = withPar(profile, { url: profile.parUrl!, required: true });
    const before = server.requests.length;
    await expect(startAuthorization(required, { redirectUri: CLIENTS.redirectUri, scope: 'openid read', par: false })).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    expect(server.requests.length).toBe(before);
    const tx = await startAuthorization(required, { redirectUri: CLIENTS.redirectUri, scope: 'openid read' });
    expect([...new URL(tx.url).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    await expect(completeAuthorization(required, tx, await followAuthorization(tx.url))).resolves.toMatchObject({ tokenType: 'DPoP' });
  });

  it('a server whose metadata requires PAR: par: false is refused before anything is sent', async () => {
    const strict = await startAuthServer({ requirePar: true });
    try {
      const profile = await discover(strict.issuer, { clientId: CLIENTS.public.clientId });
      expect(profile.requirePar).toBe(true);
      const before = strict.requests.length;
      await expect(startAuthorization(profile, { redirectUri: CLIENTS.redirectUri, par: false })).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
      expect(strict.requests.length).toBe(before);
    } finally {
      await strict.close();
    }
  });
});
