import { describe, expect, it } from 'vitest';
import { createTokenSource, ErrorCode, isOAuthError, isTokenGateError, OAuthError, TokenGateError } from '../../src/index.js';
import { discover, oauth2 } from '../../src/profiles/index.js';
import { json, mockFetch } from '../helpers/mock-fetch.js';

describe('oauth2 profile', () => {
  it('defaults to Basic with a secret and to a public client without', () => {
    const confidential = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's' });
    const headers = new Headers();
    const params: Record<string, string> = {};
    confidential.clientAuth(params, headers);
    expect(headers.get('authorization')).toBe(`Basic ${btoa('c:s')}`);
    expect(confidential.grant).toEqual({ grant_type: 'client_credentials' });
    const spa = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'spa' });
    const body: Record<string, string> = {};
    spa.clientAuth(body, new Headers());
    expect(body).toEqual({ client_id: 'spa' });
    expect(spa.grant).toBeUndefined();
  });

  const bad: [string, () => unknown, string][] = [
    ['a plain-http token URL', () => oauth2({ tokenUrl: 'http://as.example/token', clientId: 'c' }), 'tokenUrl must use https'],
    ['a relative token URL', () => oauth2({ tokenUrl: '/token', clientId: 'c' }), 'tokenUrl is not an absolute URL'],
    ['credentials in a URL', () => oauth2({ tokenUrl: 'https://u:p@as.example/token', clientId: 'c' }), 'must not contain credentials'],
    ['no client id', () => oauth2({ tokenUrl: 'https://as.example/token', clientId: '' }), 'clientId is required'],
    ['Basic without a secret', () => oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', auth: 'client_secret_basic' }), 'needs a clientSecret'],
    ['none with a secret', () => oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', auth: 'none' }), 'public clients'],
    ['an unknown auth method', () => oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', auth: 'tls_client_auth' as 'none' }), 'auth must be'],
    ['a JWT method without its key', () => oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', auth: 'private_key_jwt' }), 'auth must be'],
  ];
  for (const [name, make, message] of bad) {
    it(`refuses ${name} with a clear error`, () => {
      expect(make).toThrowError(expect.objectContaining({ code: ErrorCode.INVALID_CONFIG, message: expect.stringContaining(message) }));
    });
  }

  it('allows http only on loopback', () => {
    for (const host of ['127.0.0.1:8787', 'localhost', '[::1]:9000']) {
      expect(oauth2({ tokenUrl: `http://${host}/token`, clientId: 'c' }).tokenUrl).toContain(host);
    }
  });
});

describe('oauth2 interop options', () => {
  const secret = 'p+s/=:%x';
  const basicOf = (auth: 'client_secret_basic' | 'client_secret_basic_plain') => {
    const headers = new Headers();
    oauth2({ tokenUrl: 'https://as.example/token', clientId: 'id:1', clientSecret: secret, auth }).clientAuth({}, headers);
    return atob(headers.get('authorization')!.slice(6));
  };

  it('auth chooses Basic form-encoded (RFC 6749 §2.3.1) or plain, for servers that do not decode it', () => {
    expect(basicOf('client_secret_basic')).toBe('id%3A1:p%2Bs%2F%3D%3A%25x');
    expect(basicOf('client_secret_basic_plain')).toBe(`id:1:${secret}`);
  });

  it('refuses an unknown auth with a typed error naming the choices', () => {
    expect(() => oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', auth: 'basic' as 'none' })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_CONFIG, message: expect.stringContaining('client_secret_basic_plain') }),
    );
  });

  it('a typed password grant sends grant_type=password with the credentials, and redacts the password', async () => {
    const mock = mockFetch(() => json({ error: 'invalid_grant', error_description: 'wrong password hunter2-pw for alice' }, 400));
    const profile = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', grant: { type: 'password', username: 'alice', password: 'hunter2-pw' }, fetch: mock.fetch });
    const error = (await createTokenSource(profile).getToken().catch((e: unknown) => e)) as Error;
    expect(Object.fromEntries(new URLSearchParams(mock.requests[0]!.body))).toEqual({ grant_type: 'password', username: 'alice', password: 'hunter2-pw' });
    expect(error.message).not.toContain('hunter2-pw');
    expect(() => oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', grant: { type: 'password', username: 'alice', password: '' } })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
    );
  });
});

describe('discover (RFC 8414)', () => {
  const issuer = 'https://as.example/tenant';
  const metadata = {
    issuer,
    token_endpoint: 'https://as.example/tenant/token',
    authorization_endpoint: 'https://as.example/tenant/authorize',
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_post'],
    authorization_response_iss_parameter_supported: true,
  };

  it('reads the RFC 8414 document, picks an offered auth method and turns on the iss check', async () => {
    const mock = mockFetch(() => json(metadata));
    const profile = await discover(issuer, { clientId: 'c', clientSecret: 's', fetch: mock.fetch });
    expect(mock.requests[0]!.url).toBe('https://as.example/.well-known/oauth-authorization-server/tenant');
    expect(profile).toMatchObject({ tokenUrl: metadata.token_endpoint, authorizeUrl: metadata.authorization_endpoint, issuer, requireIss: true });
    const body: Record<string, string> = {};
    profile.clientAuth(body, new Headers());
    expect(body).toEqual({ client_id: 'c', client_secret: 's' });
  });

  it('falls back to OpenID Connect discovery on 404', async () => {
    const mock = mockFetch(() => json({}, 404), () => json(metadata));
    await discover(issuer, { clientId: 'c', fetch: mock.fetch, auth: 'none' }).catch(() => undefined);
    expect(mock.requests.map((r) => r.url)).toEqual([
      'https://as.example/.well-known/oauth-authorization-server/tenant',
      'https://as.example/tenant/.well-known/openid-configuration',
    ]);
  });

  it('finds the metadata at the OpenID Connect location when the RFC 8414 one is no document (403, HTML)', async () => {
    for (const first of [() => json({ error: 'forbidden' }, 403), () => new Response('<html>login</html>', { headers: { 'content-type': 'text/html' } })]) {
      const mock = mockFetch(first, () => json(metadata));
      await expect(discover(issuer, { clientId: 'c', clientSecret: 's', fetch: mock.fetch })).resolves.toMatchObject({ issuer });
      expect(mock.requests[1]!.url).toBe('https://as.example/tenant/.well-known/openid-configuration');
    }
  });

  it('never falls back past a document that names another issuer (RFC 8414 §3.3)', async () => {
    const mock = mockFetch(() => json({ ...metadata, issuer: 'https://as.example/other' }), () => json(metadata));
    await expect(discover(issuer, { clientId: 'c', clientSecret: 's', fetch: mock.fetch })).rejects.toMatchObject({ code: ErrorCode.INVALID_METADATA });
    mock.expectCount(1);
  });

  it('names both locations when neither has metadata', async () => {
    const mock = mockFetch(() => json({}, 404));
    await expect(discover(issuer, { clientId: 'c', fetch: mock.fetch })).rejects.toMatchObject({
      code: ErrorCode.INVALID_METADATA,
      message: expect.stringContaining('https://as.example/.well-known/oauth-authorization-server/tenant or https://as.example/tenant/.well-known/openid-configuration'),
    });
  });

  it('with a secret but no auth chosen, against a server that offers only none: says so, and names no method the caller never chose', async () => {
    const mock = mockFetch(() => json({ ...metadata, token_endpoint_auth_methods_supported: ['none'] }));
    const error = (await discover(issuer, { clientId: 'c', clientSecret: 's', fetch: mock.fetch }).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: ErrorCode.INVALID_METADATA });
    expect(error.message).toContain('it lists none');
    expect(error.message).not.toContain('client_secret_post');
    await expect(discover(issuer, { clientId: 'c', fetch: mock.fetch })).resolves.toMatchObject({ issuer });
  });

  it('picks Basic or post from what the server lists, and takes plain Basic where Basic is offered', async () => {
    const basic = mockFetch(() => json({ ...metadata, token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'] }));
    const plain = await discover(issuer, { clientId: 'c', clientSecret: 'a:b', auth: 'client_secret_basic_plain', fetch: basic.fetch });
    const headers = new Headers();
    plain.clientAuth({}, headers);
    expect(atob(headers.get('authorization')!.slice(6))).toBe('c:a:b');
  });

  const refusals: [string, Record<string, unknown>, string][] = [
    ['another issuer', { ...metadata, issuer: 'https://evil.example' }, 'names issuer'],
    ['no S256', { ...metadata, code_challenge_methods_supported: ['plain'] }, 'does not support PKCE S256'],
    ['no token endpoint', { ...metadata, token_endpoint: undefined }, '"token_endpoint"'],
    ['no secret-based auth method', { ...metadata, token_endpoint_auth_methods_supported: ['private_key_jwt'] }, 'offers no client authentication with a client secret (it lists private_key_jwt)'],
  ];
  for (const [name, body, message] of refusals) {
    it(`refuses metadata with ${name}`, async () => {
      const mock = mockFetch(() => json(body));
      await expect(discover(issuer, { clientId: 'c', clientSecret: 's', fetch: mock.fetch })).rejects.toMatchObject({
        code: ErrorCode.INVALID_METADATA,
        message: expect.stringContaining(message),
      });
    });
  }

  it('refuses an http issuer off loopback when the metadata names it', async () => {
    const mock = mockFetch(() => json({ ...metadata, issuer: 'http://as.example', token_endpoint: 'http://as.example/token' }));
    await expect(discover('http://as.example', { clientId: 'c', clientSecret: 's', fetch: mock.fetch })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
  });
});

describe('error guards', () => {
  it('recognise tokengate errors, also from another realm', () => {
    const error = new OAuthError({ error: 'invalid_grant', status: 400 });
    expect(error).toBeInstanceOf(TokenGateError);
    expect(isTokenGateError(error) && isOAuthError(error)).toBe(true);
    expect(isOAuthError(new TokenGateError(ErrorCode.NETWORK, 'x'))).toBe(false);
    expect(isTokenGateError(new Error('x'))).toBe(false);
    // A copy made by another bundle of tokengate carries the same registered symbols.
    const foreign = Object.assign(new Error('x'), { [Symbol.for('tokengate.error')]: true, [Symbol.for('tokengate.oauth-error')]: true });
    expect(isOAuthError(foreign)).toBe(true);
  });
});

describe('plain http only on loopback', () => {
  it('takes *.localhost names (RFC 6761 loopback), nothing that only looks like them', () => {
    expect(oauth2({ tokenUrl: 'http://edge.shop.localhost:8787/token/x', clientId: 'c' }).tokenUrl).toBe('http://edge.shop.localhost:8787/token/x');
    expect(oauth2({ tokenUrl: 'http://localhost:8787/token', clientId: 'c' }).tokenUrl).toBe('http://localhost:8787/token');
    for (const url of ['http://localhost.evil.example/token', 'http://xlocalhost/token', 'http://edge.localhost.example/token', 'http://127.0.0.1.nip.io/token']) {
      expect(() => oauth2({ tokenUrl: url, clientId: 'c' }), url).toThrow(/tokenUrl must use https/);
    }
  });
});
