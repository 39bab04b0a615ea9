import { describe, expect, it } from 'vitest';
import { createDpop, createTokenSource, dpopAth, dpopHtu, importClientKey, withDpop } from '../../src/index.js';
import { createApiClient } from '../../src/http/index.js';
import { oauth2 } from '../../src/profiles/index.js';
import { json, mockFetch } from '../helpers/mock-fetch.js';

// The DPoP proof builder and its fetch, in Node, Chromium and workerd alike (RFC 9449).

const decode = (part: string): Record<string, unknown> => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
const parts = (proof: string) => {
  const [header, payload] = proof.split('.') as [string, string, string];
  return { header: decode(header), payload: decode(payload) };
};
const proofOf = (request: { headers: Headers }) => parts(request.headers.get('dpop')!);

describe('DPoP proofs', () => {
  it('typ dpop+jwt, ES256, the public JWK only, and a signature that verifies with it', async () => {
    const dpop = await createDpop();
    const proof = await dpop.proof('post', 'https://as.example/token');
    const { header, payload } = parts(proof);
    expect(header).toEqual({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) } });
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://as.example/token', jti: expect.stringMatching(/^[\w-]{22}$/) });
    expect(Math.abs((payload['iat'] as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(payload).not.toHaveProperty('ath');
    expect(payload).not.toHaveProperty('nonce');
    const [h, p, s] = proof.split('.') as [string, string, string];
    const signature = Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const publicKey = await crypto.subtle.importKey('jwk', header['jwk'] as JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    await expect(crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, signature, new TextEncoder().encode(`${h}.${p}`))).resolves.toBe(true);
  });

  it('the private key cannot be exported', async () => {
    const dpop = await createDpop();
    expect(dpop.keyPair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', dpop.keyPair.privateKey as CryptoKey)).rejects.toThrow();
  });

  it('htu drops query and fragment and normalizes scheme, host and default port', () => {
    expect(dpopHtu('HTTPS://AS.Example:443/token?x=1#frag')).toBe('https://as.example/token');
    expect(dpopHtu('http://127.0.0.1:8080/a/b?c')).toBe('http://127.0.0.1:8080/a/b');
  });

  it('ath is base64url(SHA-256(token)): the RFC 9449 §7.1 example', async () => {
    // RFC 9449 §7.1: this access token's ath.
    await expect(dpopAth('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).resolves.toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
    const dpop = await createDpop();
    const { payload } = parts(await dpop.proof('GET', 'https://api.example/me', { accessToken: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU' }));
    expect(payload['ath']).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });

  it('a token endpoint nonce challenge costs one retry with a fresh jti and the nonce; the next request carries it from the start', async () => {
    const mock = mockFetch(
      () => json({ error: 'use_dpop_nonce', error_description: 'nonce' }, 400, { 'dpop-nonce': 'n-1' }),
      () => json({ access_token: 'at', token_type: 'DPoP', expires_in: 60 }, 200, { 'dpop-nonce': 'n-1' }),
    );
    const dpop = await createDpop();
    const profile = withDpop(oauth2({ tokenUrl: 'https://as.example/token?tenant=a', clientId: 'c', clientSecret: 's', fetch: mock.fetch }), dpop);
    const source = createTokenSource(profile);
    await expect(source.getToken()).resolves.toMatchObject({ tokenType: 'DPoP' });
    mock.expectCount(2);
    const [first, second] = mock.requests.map(proofOf);
    expect(first!.payload['nonce']).toBeUndefined();
    expect(second!.payload['nonce']).toBe('n-1');
    expect(first!.payload['jti']).not.toBe(second!.payload['jti']);
    expect(second!.payload).toMatchObject({ htm: 'POST', htu: 'https://as.example/token' });
    // Both attempts sent the whole body.
    expect(mock.requests.map((r) => new URLSearchParams(r.body).get('grant_type'))).toEqual(['client_credentials', 'client_credentials']);
    await profile.fetch!('https://as.example/token', { method: 'POST', body: 'x' });
    mock.expectCount(3);
    expect(proofOf(mock.requests[2]!).payload['nonce']).toBe('n-1');
  });

  it('a nonce retry carries a new client assertion (private_key_jwt, client_secret_jwt), the rest of the body unchanged, also twice wrapped', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    for (const clientKey of [await importClientKey(pair.privateKey), await importClientKey({ secret: 'CANARY-hs256-unit-secret-3b7d' })]) {
      const mock = mockFetch(
        () => json({ error: 'use_dpop_nonce' }, 400, { 'dpop-nonce': 'n-1' }),
        () => json({ access_token: 'at', token_type: 'DPoP', expires_in: 60 }),
      );
      const plain = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientKey, fetch: mock.fetch });
      // A profile given another key keeps one wrapper: one retry, one fresh assertion.
      const profile = withDpop(withDpop(plain, await createDpop()), await createDpop());
      await expect(createTokenSource(profile).getToken()).resolves.toMatchObject({ tokenType: 'DPoP' });
      mock.expectCount(2);
      const bodies = mock.requests.map((r) => new URLSearchParams(r.body));
      const [first, second] = bodies.map((body) => parts(body.get('client_assertion')!).payload);
      expect(first!['jti']).not.toBe(second!['jti']);
      expect(bodies.map((body) => [body.get('grant_type'), body.get('client_id'), body.get('client_assertion_type')])).toEqual([
        ['client_credentials', 'c', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
        ['client_credentials', 'c', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
      ]);
      expect(mock.requests.map((r) => r.headers.get('content-type'))).toEqual(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded']);
    }
  });

  it("a token source's retry after a 503 and after a network failure sends a new proof each time", async () => {
    let calls = 0;
    const mock = mockFetch((request) => {
      calls++;
      if (calls === 2) throw new TypeError('connection reset');
      return calls === 1 ? json({ error: 'temporarily_unavailable' }, 503) : json({ access_token: 'at', token_type: 'DPoP', expires_in: 60 });
    });
    const profile = withDpop(oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: mock.fetch }), await createDpop());
    const source = createTokenSource(profile, { retries: 2, sleep: async () => {}, random: () => 0 });
    await expect(source.getToken()).resolves.toMatchObject({ tokenType: 'DPoP' });
    mock.expectCount(3);
    expect(new Set(mock.requests.map((request) => proofOf(request).payload['jti'])).size).toBe(3);
  });

  it('a second challenge is not retried again: two requests at most, never a loop', async () => {
    let n = 0;
    const mock = mockFetch(() => json({ error: 'use_dpop_nonce' }, 400, { 'dpop-nonce': `n-${++n}` }));
    const dpop = await createDpop();
    const response = await dpop.fetch(mock.fetch)('https://as.example/token', { method: 'POST', body: 'grant_type=client_credentials' });
    expect(response.status).toBe(400);
    mock.expectCount(2);
    // The answer is still readable by the caller.
    await expect(response.json()).resolves.toMatchObject({ error: 'use_dpop_nonce' });
  });

  it('a 400 that is not a nonce challenge is not retried', async () => {
    const mock = mockFetch(() => json({ error: 'invalid_grant' }, 400, { 'dpop-nonce': 'n-1' }));
    const response = await (await createDpop()).fetch(mock.fetch)('https://as.example/token', { method: 'POST', body: 'x' });
    expect(response.status).toBe(400);
    mock.expectCount(1);
  });

  it('createApiClient sends Authorization: DPoP with a proof carrying ath; a resource 401 nonce challenge is retried once with a fresh proof', async () => {
    const mock = mockFetch(
      (request) => request.url.startsWith('https://as.example') ? json({ access_token: 'at-1', token_type: 'DPoP', expires_in: 3600 }) : json({}, 500),
      () => new Response(null, { status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce"', 'dpop-nonce': 'rs-1' } }),
      () => json({ ok: true }),
    );
    const dpop = await createDpop();
    const source = createTokenSource(withDpop(oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: mock.fetch }), dpop));
    const api = createApiClient({ tokenSource: source, prefix: 'https://api.example/v1', fetch: mock.fetch, dpop, retry: 0 });
    await expect(api.get('orders?page=2').json()).resolves.toEqual({ ok: true });
    mock.expectCount(3);
    const [, challenged, retried] = mock.requests;
    for (const request of [challenged!, retried!]) {
      expect(request.headers.get('authorization')).toBe('DPoP at-1');
      expect(proofOf(request).payload).toMatchObject({ htm: 'GET', htu: 'https://api.example/v1/orders', ath: await dpopAth('at-1') });
    }
    expect(proofOf(challenged!).payload['nonce']).toBeUndefined();
    expect(proofOf(retried!).payload['nonce']).toBe('rs-1');
    expect(proofOf(challenged!).payload['jti']).not.toBe(proofOf(retried!).payload['jti']);
  });

  it('with the dpop option a Bearer token goes without a proof, and other origins get none', async () => {
    const mock = mockFetch((request) => (request.url.startsWith('https://as.example') ? json({ access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 }) : json({ ok: true })));
    const source = createTokenSource(oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: mock.fetch }));
    const api = createApiClient({ tokenSource: source, prefix: 'https://api.example/v1', fetch: mock.fetch, dpop: await createDpop(), retry: 0 });
    await api.get('orders').json();
    await api.get('https://cdn.example/x').json();
    mock.expectCount(3);
    expect(mock.requests[1]!.headers.get('authorization')).toBe('Bearer at-1');
    expect(mock.requests.map((r) => r.headers.get('dpop'))).toEqual([null, null, null]);
  });

  it('without the dpop option a DPoP token is still refused before it leaves', async () => {
    const mock = mockFetch(() => json({ access_token: 'at-1', token_type: 'DPoP', expires_in: 3600 }));
    const source = createTokenSource(oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: mock.fetch }));
    const api = createApiClient({ tokenSource: source, prefix: 'https://api.example/v1', fetch: mock.fetch, retry: 0 });
    await expect(api.get('orders')).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_TOKEN_TYPE' });
    mock.expectCount(1);
  });
});
