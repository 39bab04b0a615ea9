import { describe, expect, it } from 'vitest';
import { importClientKey, introspectToken, revokeToken, startAuthorization, withPar } from '../../src/index.js';
import { oauth2 } from '../../src/profiles/index.js';
import { json, mockFetch } from '../helpers/mock-fetch.js';

// Client assertions, revocation, introspection and PAR on the wire, in Node, Chromium and workerd.

const b64 = (part: string) => Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const claims = (jwt: string) => JSON.parse(new TextDecoder().decode(b64(jwt.split('.')[1]!))) as Record<string, unknown>;
const SECRET = 'CANARY-unit-secret-4b6d8f0a2c4e6b8d0f1a3c5e7b9d';

async function verifies(jwt: string, key: CryptoKey, algorithm: AlgorithmIdentifier | EcdsaParams): Promise<boolean> {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  return crypto.subtle.verify(algorithm, key, b64(s), new TextEncoder().encode(`${h}.${p}`));
}

async function assertionOf(clientKey: Awaited<ReturnType<typeof importClientKey>>, extra: { issuer?: string; assertionAudience?: 'issuer' } = {}) {
  const params: Record<string, string> = {};
  await oauth2({ clientId: 'client-1', tokenUrl: 'https://as.example/token', clientKey, ...extra }).clientAuth(params, new Headers());
  return params;
}

describe('client assertions (RFC 7523)', () => {
  it('ES256 from a JWK: signed with the key, iss = sub = client id, aud = the token endpoint, jti fresh each time', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const key = await importClientKey({ ...(await crypto.subtle.exportKey('jwk', pair.privateKey)), kid: 'k1', alg: 'ES256', use: 'sig' });
    expect(key.method).toBe('private_key_jwt');
    const [a, b] = [await assertionOf(key), await assertionOf(key)];
    expect(a['client_assertion_type']).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(a['client_id']).toBe('client-1');
    await expect(verifies(a['client_assertion']!, pair.publicKey, { name: 'ECDSA', hash: 'SHA-256' })).resolves.toBe(true);
    expect(claims(a['client_assertion']!)).toMatchObject({ iss: 'client-1', sub: 'client-1', aud: 'https://as.example/token' });
    expect(claims(a['client_assertion']!)['jti']).not.toBe(claims(b['client_assertion']!)['jti']);
  });

  it('RS256 from PKCS#8 DER, aud = the issuer when asked', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const key = await importClientKey(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
    const params = await assertionOf(key, { issuer: 'https://as.example', assertionAudience: 'issuer' });
    await expect(verifies(params['client_assertion']!, pair.publicKey, { name: 'RSASSA-PKCS1-v1_5' })).resolves.toBe(true);
    expect(claims(params['client_assertion']!)['aud']).toBe('https://as.example');
  });

  it('HS256 from { secret }: client_secret_jwt, an HMAC over the secret; the key is not extractable', async () => {
    const key = await importClientKey({ secret: SECRET });
    expect(key.method).toBe('client_secret_jwt');
    const params = await assertionOf(key);
    const hmac = await crypto.subtle.importKey('raw', new TextEncoder().encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    await expect(verifies(params['client_assertion']!, hmac, { name: 'HMAC' })).resolves.toBe(true);
  });

  it('refuses a public key, garbage and a mismatched auth with ERR_INVALID_CONFIG, naming no key material', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    await expect(importClientKey(pair.publicKey)).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    const garbage = await importClientKey('-----BEGIN PRIVATE KEY-----\nQ0FOQVJZ\n-----END PRIVATE KEY-----').catch((e: unknown) => e);
    expect(garbage).toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    expect(String(garbage)).not.toContain('Q0FOQVJZ');
    const key = await importClientKey({ secret: SECRET });
    expect(() => oauth2({ clientId: 'c', tokenUrl: 'https://as.example/token', clientKey: key, auth: 'private_key_jwt' })).toThrow(/client_secret_jwt key/);
    expect(() => oauth2({ clientId: 'c', tokenUrl: 'https://as.example/token', clientKey: key, assertionAudience: 'issuer' })).toThrow(/needs the issuer/);
  });
});

describe('revocation, introspection and PAR requests', () => {
  const profile = (fetch: typeof globalThis.fetch) =>
    oauth2({ clientId: 'c', clientSecret: SECRET, tokenUrl: 'https://as.example/token', revocationUrl: 'https://as.example/revoke', introspectionUrl: 'https://as.example/introspect', fetch });

  it('revokeToken posts token + hint as a form with Basic auth, and a 200 with any body is success', async () => {
    const mock = mockFetch(() => new Response('whatever', { status: 200 }));
    await revokeToken(profile(mock.fetch), 'the-token', { hint: 'refresh_token' });
    mock.expectCount(1);
    const [request] = mock.requests;
    expect(request).toMatchObject({ method: 'POST', url: 'https://as.example/revoke', redirect: 'manual' });
    expect(request!.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(request!.headers.get('authorization')).toMatch(/^Basic /);
    expect(Object.fromEntries(new URLSearchParams(request!.body))).toEqual({ token: 'the-token', token_type_hint: 'refresh_token' });
  });

  it('an error answer is a typed OAuthError with the token and the secret redacted; 503 keeps Retry-After', async () => {
    const mock = mockFetch(() => json({ error: 'unsupported_token_type', error_description: `no the-token-CANARY for ${SECRET}` }, 503, { 'retry-after': '7' }));
    const error = await revokeToken(profile(mock.fetch), 'the-token-CANARY').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'OAuthError', code: 'unsupported_token_type', status: 503, retryAfter: 7000 });
    expect(String(error)).not.toMatch(/CANARY/);
  });

  it('introspectToken: active with its claims, inactive with nothing else, a body without a boolean active is ERR_INVALID_RESPONSE', async () => {
    const mock = mockFetch(
      () => json({ active: true, scope: 'read', exp: 1 }),
      () => json({ active: false, scope: 'leaked' }),
      () => json({ active: 'yes' }),
      () => new Response('<html>login</html>', { headers: { 'content-type': 'text/html' } }),
    );
    const p = profile(mock.fetch);
    await expect(introspectToken(p, 't')).resolves.toEqual({ active: true, scope: 'read', exp: 1 });
    await expect(introspectToken(p, 't')).resolves.toEqual({ active: false });
    await expect(introspectToken(p, 't')).rejects.toMatchObject({ code: 'ERR_INVALID_RESPONSE' });
    await expect(introspectToken(p, 't')).rejects.toMatchObject({ code: 'ERR_HTML_RESPONSE' });
  });

  it('a push sends every authorization parameter with the client authentication; the URL keeps only client_id and request_uri', async () => {
    const mock = mockFetch(() => json({ request_uri: 'urn:ietf:params:oauth:request_uri:abc', expires_in: 60 }, 201));
    const pushed = withPar(oauth2({ clientId: 'c', clientSecret: SECRET, tokenUrl: 'https://as.example/token', authorizeUrl: 'https://as.example/authorize', fetch: mock.fetch }), { url: 'https://as.example/par' });
    const tx = await startAuthorization(pushed, { redirectUri: 'https://app.example/cb', scope: 'read', par: true, extraParams: { prompt: 'login' } });
    expect(tx.url).toBe('https://as.example/authorize?client_id=c&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc');
    const sent = Object.fromEntries(new URLSearchParams(mock.requests[0]!.body));
    expect(sent).toMatchObject({ response_type: 'code', client_id: 'c', redirect_uri: 'https://app.example/cb', scope: 'read', state: tx.state, code_challenge_method: 'S256', prompt: 'login' });
    expect(mock.requests[0]!.headers.get('authorization')).toMatch(/^Basic /);
    const required = withPar(pushed, { url: 'https://as.example/par', required: true });
    await startAuthorization(required, { redirectUri: 'https://app.example/cb' });
    mock.expectCount(2);
  });

  it('a push answer without request_uri is ERR_INVALID_RESPONSE', async () => {
    const mock = mockFetch(() => json({ expires_in: 60 }, 201));
    const pushed = withPar(oauth2({ clientId: 'c', tokenUrl: 'https://as.example/token', authorizeUrl: 'https://as.example/authorize', fetch: mock.fetch }), { url: 'https://as.example/par', required: true });
    await expect(startAuthorization(pushed, { redirectUri: 'https://app.example/cb' })).rejects.toMatchObject({ code: 'ERR_INVALID_RESPONSE' });
  });
});
