import { describe, expect, it } from 'vitest';
import { clientCredentialsGrant, ErrorCode, OAuthError, refreshTokenGrant, TokenGateError } from '../../src/index.js';
import { oauth2, type OAuth2Options } from '../../src/profiles/index.js';
import { hangingFetch, json, mockFetch, type Responder } from '../helpers/mock-fetch.js';

const NOW = 1_700_000_000_000;
const now = () => NOW;

function profileWith(responder: Responder, extra: Partial<OAuth2Options> = {}) {
  const mock = mockFetch(responder);
  return { mock, profile: oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 'secret-value', fetch: mock.fetch, ...extra }) };
}

describe('token answers are normalized', () => {
  it('computes expiresAt from receipt time, normalizes token_type, splits scope', async () => {
    const { profile } = profileWith(() => json({ access_token: 'a', token_type: 'bearer', expires_in: 269, scope: 'read  write' }));
    await expect(clientCredentialsGrant(profile, { now })).resolves.toEqual({ accessToken: 'a', tokenType: 'Bearer', expiresAt: NOW + 269_000, scope: ['read', 'write'] });
  });

  it('accepts expires_in as a numeric string', async () => {
    const { profile } = profileWith(() => json({ access_token: 'a', token_type: 'BEARER', expires_in: '600' }));
    await expect(clientCredentialsGrant(profile, { now })).resolves.toMatchObject({ tokenType: 'Bearer', expiresAt: NOW + 600_000 });
  });

  it('falls back to the profile lifetime, or leaves expiry unknown', async () => {
    const withDefault = profileWith(() => json({ access_token: 'a', token_type: 'Bearer' }), { defaultLifetime: 86_400 });
    await expect(clientCredentialsGrant(withDefault.profile, { now })).resolves.toMatchObject({ expiresAt: NOW + 86_400_000 });
    const without = profileWith(() => json({ access_token: 'a', token_type: 'Bearer' }));
    const tokens = await clientCredentialsGrant(without.profile, { now });
    expect(tokens).not.toHaveProperty('expiresAt');
  });

  it('keeps the old refresh token when a refresh answer has none, and takes a rotated one', async () => {
    const kept = profileWith(() => json({ access_token: 'a', token_type: 'Bearer' }));
    await expect(refreshTokenGrant(kept.profile, 'rt-old')).resolves.toMatchObject({ refreshToken: 'rt-old' });
    const rotated = profileWith(() => json({ access_token: 'a', token_type: 'Bearer', refresh_token: 'rt-new' }));
    await expect(refreshTokenGrant(rotated.profile, 'rt-old')).resolves.toMatchObject({ refreshToken: 'rt-new' });
  });

  it('keeps other token types as sent and long tokens whole', async () => {
    const long = 'x'.repeat(5000);
    const { profile } = profileWith(() => json({ access_token: long, token_type: 'DPoP' }));
    await expect(clientCredentialsGrant(profile)).resolves.toMatchObject({ accessToken: long, tokenType: 'DPoP' });
  });

  const invalid: [string, unknown, string][] = [
    ['no access_token', { token_type: 'Bearer' }, 'access_token'],
    ['an empty access_token', { access_token: '', token_type: 'Bearer' }, 'access_token'],
    ['no token_type', { access_token: 'a' }, 'token_type'],
    ['a negative expires_in', { access_token: 'a', token_type: 'Bearer', expires_in: -1 }, 'expires_in'],
    ['a non-numeric expires_in', { access_token: 'a', token_type: 'Bearer', expires_in: 'soon' }, 'expires_in'],
    ['a numeric access_token', { access_token: 42, token_type: 'Bearer' }, 'access_token'],
    ['an access_token with a blank', { access_token: 'a b', token_type: 'Bearer' }, 'access_token'],
    ['a token_type with a blank', { access_token: 'a', token_type: 'Bearer x' }, 'token_type'],
    ['an expires_in over the cap', { access_token: 'a', token_type: 'Bearer', expires_in: 1e10 }, 'expires_in'],
    ['an expires_in in exponent notation', { access_token: 'a', token_type: 'Bearer', expires_in: '1e3' }, 'expires_in'],
    ['an expires_in that is not a number', { access_token: 'a', token_type: 'Bearer', expires_in: true }, 'expires_in'],
  ];
  for (const [name, body, field] of invalid) {
    it(`rejects ${name}, naming the field`, async () => {
      const { profile } = profileWith(() => json(body));
      const error = await clientCredentialsGrant(profile).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenGateError);
      expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE, status: 200 });
      expect((error as Error).message).toContain(`"${field}"`);
    });
  }
  it('rejects a body that is not an object', async () => {
    for (const body of [null, [], 'token', 7]) {
      const { profile } = profileWith(() => json(body));
      await expect(clientCredentialsGrant(profile)).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    }
  });
});

describe('bad answers become typed errors that say what was wrong', () => {
  it('an OAuth error body becomes an OAuthError with code, description and status', async () => {
    const { profile } = profileWith(() => json({ error: 'invalid_client', error_description: 'Unknown client', error_uri: 'https://as.example/doc' }, 401));
    const error = await clientCredentialsGrant(profile).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_client', description: 'Unknown client', uri: 'https://as.example/doc', status: 401 });
  });

  it('a 429 carries Retry-After in milliseconds', async () => {
    const { profile } = profileWith(() => json({ error: 'slow_down' }, 429, { 'retry-after': '7' }));
    await expect(clientCredentialsGrant(profile)).rejects.toMatchObject({ code: 'slow_down', status: 429, retryAfter: 7000 });
  });

  const cases: [string, Responder, string, number | undefined][] = [
    ['an HTML login page with 200', () => new Response('<!DOCTYPE html><html><body>Sign in</body></html>', { headers: { 'content-type': 'text/html' } }), ErrorCode.HTML_RESPONSE, 200],
    ['HTML sent as JSON', () => new Response('<html><body>Sign in</body></html>', { headers: { 'content-type': 'application/json' } }), ErrorCode.HTML_RESPONSE, 200],
    ['an HTML 502 page', () => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }), ErrorCode.HTTP_STATUS, 502],
    ['truncated JSON', () => new Response('{"access_token":"abc","tok', { headers: { 'content-type': 'application/json' } }), ErrorCode.INVALID_JSON, 200],
    ['a wrong content type', () => new Response('access_token=abc', { headers: { 'content-type': 'text/plain' } }), ErrorCode.CONTENT_TYPE, 200],
    ['no content type', () => new Response(new Uint8Array([1, 2])), ErrorCode.CONTENT_TYPE, 200],
    ['a 500 with a non-OAuth JSON body', () => json({ message: 'boom' }, 500), ErrorCode.HTTP_STATUS, 500],
    ['a redirect', () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } }), ErrorCode.UNEXPECTED_REDIRECT, 302],
    ['a declared body over the cap', () => new Response('{}', { headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) } }), ErrorCode.BODY_TOO_LARGE, 200],
    ['a streamed body over the cap', () => new Response(streamOf(300 * 1024), { headers: { 'content-type': 'application/json' } }), ErrorCode.BODY_TOO_LARGE, 200],
    ['a network failure', () => Promise.reject(new TypeError('fetch failed')), ErrorCode.NETWORK, undefined],
  ];
  for (const [name, responder, code, status] of cases) {
    it(`${name} → ${code}`, async () => {
      const { profile } = profileWith(responder);
      const error = await clientCredentialsGrant(profile).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenGateError);
      expect(error).toMatchObject({ code, status });
      expect((error as Error).message).toMatch(/oauth2 token endpoint/);
    });
  }

  it('a server that never answers times out', async () => {
    const profile = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: hangingFetch, timeout: 30 });
    await expect(clientCredentialsGrant(profile)).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
  });

  it('a body that stalls times out', async () => {
    const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode('{"access')) });
    const { profile } = profileWith(() => new Response(stalled, { headers: { 'content-type': 'application/json' } }), { timeout: 30 });
    await expect(clientCredentialsGrant(profile)).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
  });

  it("the caller's AbortSignal also aborts reading a body that has started", async () => {
    const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode('{"access')) });
    const { profile } = profileWith(() => new Response(stalled, { headers: { 'content-type': 'application/json' } }));
    const controller = new AbortController();
    const pending = clientCredentialsGrant(profile, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.ABORTED, status: 200 });
  });

  it("the caller's AbortSignal aborts", async () => {
    const profile = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: hangingFetch });
    const controller = new AbortController();
    const pending = clientCredentialsGrant(profile, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    const already = new AbortController();
    already.abort();
    await expect(clientCredentialsGrant(profile, { signal: already.signal })).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });
});

function streamOf(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(new Uint8Array(16 * 1024).fill(32));
      sent += 16 * 1024;
    },
  });
}

describe('token values the Authorization header could not carry', () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ['a blank access_token', { access_token: ' ', token_type: 'Bearer' }, 'access_token'],
    ['a control character in access_token', { access_token: 'a\nb', token_type: 'Bearer' }, 'access_token'],
    ['a non-ASCII refresh_token', { access_token: 'a', token_type: 'Bearer', refresh_token: 'rt-é' }, 'refresh_token'],
    ['an absurd expires_in', { access_token: 'a', token_type: 'Bearer', expires_in: 1e306 }, 'expires_in'],
  ];
  for (const [name, body, field] of bad) {
    it(`rejects ${name}`, async () => {
      const { profile } = profileWith(() => json(body));
      const error = await clientCredentialsGrant(profile).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
      expect((error as Error).message).toContain(`"${field}"`);
    });
  }
});

describe('error bodies servers send besides RFC 6749 §5.2', () => {
  const problem = (body: Record<string, unknown>, status = 400) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json' } });

  it("keeps an RFC 9457 problem's title and detail in the error, redacted", async () => {
    const { profile } = profileWith(() =>
      problem({ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'code_verifier provided does not match code_challenge; secret-value was sent' }),
    );
    const error = (await clientCredentialsGrant(profile).catch((e: unknown) => e)) as TokenGateError;
    expect(error).toMatchObject({ code: ErrorCode.HTTP_STATUS, status: 400 });
    expect(error.message).toContain('Bad Request: code_verifier provided does not match code_challenge');
    expect(error.message).not.toContain('secret-value');
  });

  it('a problem that also carries an OAuth error code is an OAuthError with the detail as description', async () => {
    const { profile } = profileWith(() => problem({ error: 'invalid_grant', detail: 'code_verifier provided does not match code_challenge' }));
    await expect(clientCredentialsGrant(profile)).rejects.toMatchObject({
      name: 'OAuthError',
      code: 'invalid_grant',
      description: 'code_verifier provided does not match code_challenge',
    });
  });

  it('an OAuth error JSON sent as text/plain keeps its code, redacted like any server text', async () => {
    const { profile } = profileWith(
      () => new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'grant secret-value expired' }), { status: 400, headers: { 'content-type': 'text/plain' } }),
    );
    const error = (await clientCredentialsGrant(profile).catch((e: unknown) => e)) as OAuthError;
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400, description: 'grant [redacted] expired' });
    expect(error.message).not.toContain('secret-value');
  });

  it('a 2xx token answer under a wrong content type is still refused', async () => {
    const { profile } = profileWith(() => new Response(JSON.stringify({ access_token: 'a', token_type: 'Bearer' }), { headers: { 'content-type': 'text/plain' } }));
    await expect(clientCredentialsGrant(profile)).rejects.toMatchObject({ code: ErrorCode.CONTENT_TYPE });
  });
});
