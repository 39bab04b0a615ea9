import { describe, expect, it } from 'vitest';
import { completeAuthorization, computeChallenge, ErrorCode, isOAuthError, OAuthError, startAuthorization } from '../../src/index.js';
import { oauth2, type OAuth2Options } from '../../src/profiles/index.js';
import { mockFetch, tokenAnswer } from '../helpers/mock-fetch.js';

const redirectUri = 'https://app.example/callback';

function setup(extra: Partial<OAuth2Options> = {}) {
  const mock = mockFetch(() => tokenAnswer({ refresh_token: 'rt-1' }));
  const profile = oauth2({
    authorizeUrl: 'https://as.example/authorize?tenant=acme',
    tokenUrl: 'https://as.example/token',
    clientId: 'spa',
    issuer: 'https://as.example',
    scope: ['read', 'write'],
    fetch: mock.fetch,
    ...extra,
  });
  return { mock, profile };
}

function callback(params: Record<string, string>, base = redirectUri): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.href;
}

describe('startAuthorization', () => {
  it('builds an authorization URL with S256 PKCE, state and the configured redirect URI', async () => {
    const { profile } = setup();
    const tx = await startAuthorization(profile, { redirectUri, extraParams: { prompt: 'login', code_challenge_method: 'plain' } });
    const url = new URL(tx.url);
    expect(url.origin + url.pathname).toBe('https://as.example/authorize');
    const q = url.searchParams;
    expect(q.get('tenant')).toBe('acme');
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('spa');
    expect(q.get('redirect_uri')).toBe(redirectUri);
    expect(q.get('scope')).toBe('read write');
    expect(q.get('state')).toBe(tx.state);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toBe(await computeChallenge(tx.codeVerifier));
    expect(q.get('prompt')).toBe('login');
    expect(tx.url).not.toContain(tx.codeVerifier);
  });

  it('never downgrades to plain, whatever extra parameters say', async () => {
    const { profile } = setup();
    for (let i = 0; i < 20; i++) {
      const tx = await startAuthorization(profile, { redirectUri, extraParams: { code_challenge_method: 'plain', code_challenge: 'x'.repeat(43) } });
      const query = new URL(tx.url).searchParams;
      expect(query.getAll('code_challenge_method')).toEqual(['S256']);
      expect(query.getAll('code_challenge')).toEqual([await computeChallenge(tx.codeVerifier)]);
    }
  });

  it('needs an authorizeUrl and a redirect URI without fragment', async () => {
    const noAuthorize = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'x' });
    await expect(startAuthorization(noAuthorize, { redirectUri })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
    // A hand-built profile with an empty authorizeUrl: the same typed error, not the URL parser's TypeError.
    await expect(startAuthorization({ ...noAuthorize, authorizeUrl: '' }, { redirectUri })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
    await expect(startAuthorization(setup().profile, { redirectUri: `${redirectUri}#x` })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
  });
});

describe('completeAuthorization', () => {
  it('exchanges code and verifier once everything checks out', async () => {
    const { mock, profile } = setup();
    const tx = await startAuthorization(profile, { redirectUri });
    const tokens = await completeAuthorization(profile, tx, callback({ code: 'the-code', state: tx.state, iss: 'https://as.example' }));
    expect(tokens).toMatchObject({ accessToken: 'at-1', tokenType: 'Bearer', refreshToken: 'rt-1' });
    mock.expectCount(1);
    const body = new URLSearchParams(mock.requests[0]!.body);
    expect(Object.fromEntries(body)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      code_verifier: tx.codeVerifier,
      redirect_uri: redirectUri,
      client_id: 'spa',
    });
  });

  const rejections: [string, (state: string) => string, string][] = [
    ['no state', () => callback({ code: 'c', iss: 'https://as.example' }), ErrorCode.STATE_MISSING],
    ['an empty state', () => callback({ code: 'c', state: '', iss: 'https://as.example' }), ErrorCode.STATE_MISSING],
    ['a wrong state', (state) => callback({ code: 'c', state: `${state}x`, iss: 'https://as.example' }), ErrorCode.STATE_MISMATCH],
    ['a wrong iss', (state) => callback({ code: 'c', state, iss: 'https://evil.example' }), ErrorCode.ISSUER_MISMATCH],
    ['another redirect path', (state) => callback({ code: 'c', state }, 'https://app.example/other'), ErrorCode.REDIRECT_URI_MISMATCH],
    ['another redirect origin', (state) => callback({ code: 'c', state }, 'https://evil.example/callback'), ErrorCode.REDIRECT_URI_MISMATCH],
    ['no code', (state) => callback({ state, iss: 'https://as.example' }), ErrorCode.CODE_MISSING],
    ['a relative URL', () => '/callback?code=c', ErrorCode.REDIRECT_URI_MISMATCH],
  ];
  for (const [name, build, code] of rejections) {
    it(`rejects ${name} without calling the token endpoint`, async () => {
      const { mock, profile } = setup();
      const tx = await startAuthorization(profile, { redirectUri });
      await expect(completeAuthorization(profile, tx, build(tx.state))).rejects.toMatchObject({ code });
      mock.expectCount(0);
    });
  }

  it('requires iss when the server advertises it (RFC 9207)', async () => {
    const { mock, profile } = setup({ requireIss: true });
    const tx = await startAuthorization(profile, { redirectUri });
    await expect(completeAuthorization(profile, tx, callback({ code: 'c', state: tx.state }))).rejects.toMatchObject({ code: ErrorCode.ISSUER_MISSING });
    mock.expectCount(0);
  });

  it('accepts a missing iss from a server that does not advertise it', async () => {
    const { mock, profile } = setup();
    const tx = await startAuthorization(profile, { redirectUri });
    await completeAuthorization(profile, tx, callback({ code: 'c', state: tx.state }));
    mock.expectCount(1);
  });

  it('rejects an iss it cannot check, as missing configuration (ERR_ISSUER_UNKNOWN), not as a mismatch', async () => {
    const mock = mockFetch(() => tokenAnswer());
    const profile = oauth2({ authorizeUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', clientId: 'spa', fetch: mock.fetch });
    const tx = await startAuthorization(profile, { redirectUri });
    await expect(completeAuthorization(profile, tx, callback({ code: 'c', state: tx.state, iss: 'https://as.example' }))).rejects.toMatchObject({
      code: ErrorCode.ISSUER_UNKNOWN,
      message: expect.stringContaining('configure issuer'),
    });
    mock.expectCount(0);
  });

  it('turns an error callback into an OAuthError, after checking state', async () => {
    const { mock, profile } = setup();
    const tx = await startAuthorization(profile, { redirectUri });
    const error = await completeAuthorization(profile, tx, callback({ error: 'access_denied', error_description: 'User said no', state: tx.state })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(isOAuthError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'access_denied', description: 'User said no', status: undefined });
    // A forged error callback with a wrong state is a state error, not an OAuth error.
    await expect(completeAuthorization(profile, tx, callback({ error: 'access_denied', state: 'forged' }))).rejects.toMatchObject({ code: ErrorCode.STATE_MISMATCH });
    mock.expectCount(0);
  });
});
