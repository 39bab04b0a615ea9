import { describe, expect, it } from 'vitest';
import {
  storeKey,
  authorizationCodeGrant,
  createPkce,
  createTokenSource,
  ErrorCode,
  isOAuthError,
  memoryStore,
  OAuthError,
  profileGrant,
  refreshTokenGrant,
  type Profile,
  type TokenSourceOptions,
} from '../../src/index.js';
import { authorizeSandboxUser, eshopbox, instabox, instacart, instellix, shopware } from '../../src/profiles/index.js';
import { json, mockFetch, tokenAnswer, type Responder, type SeenRequest } from '../helpers/mock-fetch.js';
import { fakeTime as fakeClock } from '../helpers/fake-time.js';

const fakeTime = (start = NOW): ReturnType<typeof fakeClock> => fakeClock(start);

const NOW = 1_700_000_000_000;
const FORM = 'application/x-www-form-urlencoded';


/** The form body as an object; fails on a repeated field. */
function formBody(request: SeenRequest): Record<string, string> {
  const entries = [...new URLSearchParams(request.body)];
  expect(new Set(entries.map(([name]) => name)).size).toBe(entries.length);
  return Object.fromEntries(entries);
}

function jsonBody(request: SeenRequest): unknown {
  return JSON.parse(request.body) as unknown;
}

/** The headers every token request carries, and nothing credential-like unless given. */
function expectTokenRequest(request: SeenRequest, url: string, contentType: string, authorization: string | null = null): void {
  expect(request.method).toBe('POST');
  expect(request.url).toBe(url);
  expect(request.redirect).toBe('manual');
  expect(request.headers.get('content-type')).toBe(contentType);
  expect(request.headers.get('accept')).toBe('application/json');
  expect(request.headers.get('authorization')).toBe(authorization);
}

async function caught(promise: Promise<unknown>): Promise<Error & { code: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: string; status?: number };
  }
  throw new Error('expected a rejection');
}

function throwsConfig(make: () => unknown, message: string): void {
  expect(make).toThrowError(expect.objectContaining({ code: ErrorCode.INVALID_CONFIG, message: expect.stringContaining(message) }));
}

function source(profile: Profile, time: ReturnType<typeof fakeTime>, options: TokenSourceOptions = {}) {
  return createTokenSource(profile, { now: time.now, sleep: time.sleep, random: () => 0.5, ...options });
}

describe('instabox', () => {
  const ID = 'ib-client-id';
  const SECRET = 'ib-secret-4f9a2c';
  const make = (fetch?: Profile['fetch'], extra: Partial<Parameters<typeof instabox>[0]> = {}) =>
    instabox({ clientId: ID, clientSecret: SECRET, ...(fetch ? { fetch } : {}), ...extra });

  it('sends the documented form request and maps {"status":"OK","token"} with the 24 h default lifetime', async () => {
    const mock = mockFetch(() => json({ status: 'OK', token: 'eyJ.ib.token' }));
    const tokens = await profileGrant(make(mock.fetch), { now: () => NOW });
    mock.expectCount(1);
    const request = mock.requests[0]!;
    expectTokenRequest(request, 'https://oauth.instabox.se/v1/token', FORM);
    expect(formBody(request)).toEqual({ grant_type: 'client_credentials', client_id: ID, client_secret: SECRET });
    expect(tokens).toEqual({ accessToken: 'eyJ.ib.token', tokenType: 'Bearer', expiresAt: NOW + 86_400_000 });
  });

  it('keeps a 2,000-character token untouched through the token source and its store', async () => {
    const long = `eyJ${'x'.repeat(1_000)}.${'y'.repeat(996)}`;
    expect(long).toHaveLength(2_000);
    const mock = mockFetch(() => json({ status: 'OK', token: long }));
    const store = memoryStore();
    const time = fakeTime();
    const profile = make(mock.fetch);
    const tokens = await source(profile, time, { store }).getToken();
    expect(tokens.accessToken).toBe(long);
    expect((await store.get(storeKey(profile)))?.accessToken).toBe(long);
    expect(tokens.expiresAt).toBe(NOW + 86_400_000);
  });

  it('caches the token for 24 hours and then asks again', async () => {
    let n = 0;
    const mock = mockFetch(() => json({ status: 'OK', token: `t-${++n}` }));
    const time = fakeTime();
    const tokens = source(make(mock.fetch), time);
    expect((await tokens.getToken()).accessToken).toBe('t-1');
    time.clock.now += 23 * 3_600_000;
    expect((await tokens.getToken()).accessToken).toBe('t-1');
    mock.expectCount(1);
    time.clock.now += 3_600_000;
    expect((await tokens.getToken()).accessToken).toBe('t-2');
    mock.expectCount(2);
  });

  const refused: [string, unknown][] = [
    ['a status other than OK', { status: 'ERROR', token: 'tok' }],
    ['no token', { status: 'OK' }],
    ['an empty token', { status: 'OK', token: '' }],
    ['a token that is not a string', { status: 'OK', token: 42 }],
    ['an RFC 6749 body instead of the documented one', { access_token: 'at', token_type: 'Bearer' }],
    ['an array', [{ status: 'OK', token: 'tok' }]],
  ];
  for (const [name, body] of refused) {
    it(`refuses an answer with ${name}`, async () => {
      const mock = mockFetch(() => json(body));
      await expect(profileGrant(make(mock.fetch))).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE, status: 200 });
    });
  }

  it('maps the documented 401 and 400 to invalid_client and invalid_request, whatever the JSON body', async () => {
    const unauthorized = await caught(profileGrant(make(mockFetch(() => json({ message: `bad ${SECRET}` }, 401)).fetch)));
    expect(isOAuthError(unauthorized)).toBe(true);
    expect(unauthorized).toMatchObject({ code: 'invalid_client', status: 401 });
    expect((unauthorized as OAuthError).description).toBe('Invalid credentials: verify client_id and client_secret');
    expect(unauthorized.message).not.toContain(SECRET);
    const malformed = await caught(profileGrant(make(mockFetch(() => json({ status: 'ERROR' }, 400)).fetch)));
    expect(malformed).toMatchObject({ code: 'invalid_request', status: 400 });
    expect((malformed as OAuthError).description).toMatch(/^Malformed request: /);
  });

  it('leaves a non-JSON error and other statuses to the core', async () => {
    const text = mockFetch(() => new Response('Unauthorized', { status: 401, headers: { 'content-type': 'text/plain' } }));
    await expect(profileGrant(make(text.fetch))).rejects.toMatchObject({ code: ErrorCode.HTTP_STATUS, status: 401 });
    const teapot = mockFetch(() => json({ something: 'else' }, 418));
    await expect(profileGrant(make(teapot.fetch))).rejects.toMatchObject({ code: ErrorCode.HTTP_STATUS, status: 418 });
  });

  it('has the documented endpoints, takes overrides and holds its secret', async () => {
    const profile = make();
    expect(profile).toMatchObject({ name: 'instabox', clientId: ID, tokenUrl: 'https://oauth.instabox.se/v1/token', apiBaseUrl: 'https://webshopintegrations.instabox.se' });
    expect(profile.secrets).toEqual([SECRET]);
    const mock = mockFetch(() => json({ status: 'OK', token: 't' }));
    const local = make(mock.fetch, { tokenUrl: 'http://127.0.0.1:8787/sandbox/instabox/v1/token', apiBaseUrl: 'http://127.0.0.1:8787/api/instabox/', timeout: 1234, maxResponseBytes: 999 });
    expect(local).toMatchObject({ apiBaseUrl: 'http://127.0.0.1:8787/api/instabox', timeout: 1234, maxResponseBytes: 999 });
    await profileGrant(local);
    expect(mock.requests[0]!.url).toBe('http://127.0.0.1:8787/sandbox/instabox/v1/token');
  });

  it('refuses missing credentials and insecure overrides', () => {
    throwsConfig(() => instabox({ clientId: '', clientSecret: SECRET }), 'clientId');
    throwsConfig(() => instabox({ clientId: ID } as never), 'clientSecret');
    throwsConfig(() => make(undefined, { tokenUrl: 'http://oauth.example/token' }), 'tokenUrl');
    throwsConfig(() => make(undefined, { apiBaseUrl: 'not a url' }), 'apiBaseUrl');
  });
});

describe('eshopbox', () => {
  const ID = 'esb-client';
  const SECRET = 'esb-secret-77b1';
  const REFRESH = 'esb-long-lived-refresh-9c0d';
  const TOKEN_URL = 'https://auth.myeshopbox.com/oauth/token';
  const make = (fetch?: Profile['fetch'], extra: Partial<Parameters<typeof eshopbox>[0]> = {}) =>
    eshopbox({ clientId: ID, clientSecret: SECRET, refreshToken: REFRESH, ...(fetch ? { fetch } : {}), ...extra });
  const documented = { grant_type: 'refresh_token', refresh_token: REFRESH, client_id: ID, client_secret: SECRET };

  it('exchanges the app refresh token with client_id and client_secret in the form body', async () => {
    const mock = mockFetch(() => json({ access_token: 'esb-at', scope: 'openid,profile', expires_in: 3600, token_type: 'Bearer' }));
    const time = fakeTime();
    const tokens = await source(make(mock.fetch), time).getToken();
    mock.expectCount(1);
    expectTokenRequest(mock.requests[0]!, TOKEN_URL, FORM);
    expect(formBody(mock.requests[0]!)).toEqual(documented);
    // The app's long-lived refresh token is the profile's credential: never copied into the set.
    expect(tokens).toEqual({ accessToken: 'esb-at', tokenType: 'Bearer', expiresAt: NOW + 3_600_000, scope: ['openid', 'profile'] });
  });

  it('sends the same documented request again before the token expires', async () => {
    let n = 0;
    const mock = mockFetch(() => json({ access_token: `at-${++n}`, scope: 'openid', expires_in: 3600, token_type: 'Bearer' }));
    const time = fakeTime();
    const tokens = source(make(mock.fetch), time);
    await tokens.getToken();
    time.clock.now += 3_600_000;
    expect((await tokens.getToken()).accessToken).toBe('at-2');
    mock.expectCount(2);
    expect(formBody(mock.requests[1]!)).toEqual(documented);
    expect(await refreshTokenGrant(make(mock.fetch), REFRESH)).toMatchObject({ refreshToken: REFRESH, scope: ['openid'] });
    expect(formBody(mock.requests[2]!)).toEqual(documented);
  });

  it('a refused app refresh token means the app must be set up again, without another grant', async () => {
    const mock = mockFetch(
      () => json({ access_token: 'at-1', expires_in: 60, token_type: 'Bearer' }),
      () => json({ error: 'invalid_grant', error_description: `refresh token ${REFRESH} revoked` }, 400),
    );
    const time = fakeTime();
    const tokens = source(make(mock.fetch), time);
    await tokens.getToken();
    time.clock.now += 60_000;
    const error = await caught(tokens.getToken());
    expect(error).toMatchObject({ code: ErrorCode.LINK_REQUIRED, status: 400 });
    mock.expectCount(2);
    expect(JSON.stringify(error) + error.message + String((error.cause as Error).message)).not.toContain(REFRESH);
  });

  it('maps wrong credentials to invalid_client', async () => {
    const mock = mockFetch(() => json({ error: 'invalid_client', error_description: 'Unknown client' }, 401));
    await expect(profileGrant(make(mock.fetch))).rejects.toMatchObject({ code: 'invalid_client', status: 401, description: 'Unknown client' });
  });

  it('defaults to the assumed host, takes overrides and holds its secrets', async () => {
    const profile = make();
    expect(profile).toMatchObject({ name: 'eshopbox', tokenUrl: TOKEN_URL, apiBaseUrl: 'https://wms.eshopbox.com', scopeSeparator: ',' });
    expect(profile.secrets).toEqual([SECRET, REFRESH]);
    const mock = mockFetch(() => tokenAnswer());
    await profileGrant(make(mock.fetch, { tokenUrl: 'https://auth.eshopbox.example/api/oauth/token', apiBaseUrl: 'https://wms.example' }));
    expect(mock.requests[0]!.url).toBe('https://auth.eshopbox.example/api/oauth/token');
    expect(make(undefined, { apiBaseUrl: 'https://wms.example' }).apiBaseUrl).toBe('https://wms.example');
  });

  it('refuses missing credentials', () => {
    throwsConfig(() => eshopbox({ clientId: ID, clientSecret: SECRET, refreshToken: '' }), 'refreshToken');
    throwsConfig(() => eshopbox({ clientId: ID, refreshToken: REFRESH } as never), 'clientSecret');
    throwsConfig(() => eshopbox({ clientSecret: SECRET, refreshToken: REFRESH } as never), 'clientId');
  });
});

describe('instellix', () => {
  // The document's own example: base64("my_client_id:my_client_secret").
  const ID = 'my_client_id';
  const SECRET = 'my_client_secret';
  const BASIC = 'Basic bXlfY2xpZW50X2lkOm15X2NsaWVudF9zZWNyZXQ=';
  const make = (fetch?: Profile['fetch'], extra: Partial<Parameters<typeof instellix>[0]> = {}) =>
    instellix({ realm: 'acme', environment: 'sandbox', clientId: ID, clientSecret: SECRET, ...(fetch ? { fetch } : {}), ...extra });

  it('sends only grant_type=client_credentials with Basic exactly as the document builds it', async () => {
    const mock = mockFetch(() => json({ access_token: 'opaque-1', token_type: 'bearer', expires_in: 269 }));
    const tokens = await profileGrant(make(mock.fetch), { now: () => NOW });
    mock.expectCount(1);
    expectTokenRequest(mock.requests[0]!, 'https://api.sandbox.instellix.io/acme/oauth2/token', FORM, BASIC);
    expect(mock.requests[0]!.body).toBe('grant_type=client_credentials');
    expect(tokens).toEqual({ accessToken: 'opaque-1', tokenType: 'Bearer', expiresAt: NOW + 269_000 });
  });

  it('does not form-encode the credentials before base64', async () => {
    const mock = mockFetch(() => tokenAnswer());
    await profileGrant(make(mock.fetch, { clientId: 'id:é', clientSecret: 'a b+%c' }));
    const bytes = new TextEncoder().encode('id:é:a b+%c');
    expect(mock.requests[0]!.headers.get('authorization')).toBe(`Basic ${btoa(String.fromCharCode(...bytes))}`);
  });

  it('assumes the documented 5-minute default when expires_in is missing', async () => {
    const mock = mockFetch(() => json({ access_token: 'opaque', token_type: 'bearer' }));
    expect((await profileGrant(make(mock.fetch), { now: () => NOW })).expiresAt).toBe(NOW + 300_000);
  });

  it('knows the three hosts and puts the realm in the path, encoded', () => {
    expect(make(undefined, { environment: 'production' })).toMatchObject({ tokenUrl: 'https://api.instellix.io/acme/oauth2/token', apiBaseUrl: 'https://api.instellix.io' });
    expect(make(undefined, { environment: 'sandbox' }).apiBaseUrl).toBe('https://api.sandbox.instellix.io');
    expect(make(undefined, { environment: 'stage' })).toMatchObject({
      tokenUrl: 'https://api.isx-stage-westeurope.instellix.io/acme/oauth2/token',
      apiBaseUrl: 'https://api.isx-stage-westeurope.instellix.io',
    });
    expect(make(undefined, { realm: 'ac me?#' }).tokenUrl).toBe('https://api.sandbox.instellix.io/ac%20me%3F%23/oauth2/token');
    const local = make(undefined, { tokenUrl: 'http://127.0.0.1:8787/sandbox/instellix/acme/oauth2/token', apiBaseUrl: 'http://127.0.0.1:8787/api/instellix' });
    expect(local).toMatchObject({ tokenUrl: 'http://127.0.0.1:8787/sandbox/instellix/acme/oauth2/token', apiBaseUrl: 'http://127.0.0.1:8787/api/instellix' });
    expect(make().secrets).toEqual([SECRET]);
  });

  it('refuses a bad realm, an unknown environment and missing credentials', () => {
    throwsConfig(() => make(undefined, { realm: '' }), 'realm');
    throwsConfig(() => make(undefined, { realm: 'a/b' }), 'realm');
    throwsConfig(() => make(undefined, { realm: '..' }), 'realm');
    throwsConfig(() => make(undefined, { environment: 'staging' as 'stage' }), 'production, sandbox, stage');
    throwsConfig(() => make(undefined, { environment: 'toString' as 'stage' }), 'environment');
    throwsConfig(() => make(undefined, { clientSecret: '' }), 'clientSecret');
    throwsConfig(() => make(undefined, { clientId: undefined as unknown as string }), 'clientId');
  });

  it('500 concurrent callers make one request', async () => {
    const mock = mockFetch(() => json({ access_token: 'opaque', token_type: 'bearer', expires_in: 300 }));
    const tokens = source(make(mock.fetch), fakeTime());
    const all = await Promise.all(Array.from({ length: 500 }, () => tokens.getToken()));
    mock.expectCount(1);
    expect(new Set(all.map((t) => t.accessToken))).toEqual(new Set(['opaque']));
  });

  it('after a 401 on the API, waits the full 5 s before asking for a new token', async () => {
    const time = fakeTime();
    const at: number[] = [];
    const mock = mockFetch(() => {
      at.push(time.clock.now);
      return json({ access_token: `opaque-${at.length}`, token_type: 'bearer', expires_in: 300 });
    });
    const tokens = source(make(mock.fetch), time);
    let current = await tokens.getToken();
    for (let i = 0; i < 3; i++) {
      tokens.invalidate(current.accessToken);
      const next = await Promise.all(Array.from({ length: 50 }, () => tokens.getToken()));
      expect(new Set(next.map((t) => t.accessToken)).size).toBe(1);
      current = next[0]!;
    }
    mock.expectCount(4);
    expect(time.clock.waits).toEqual([5_000, 5_000, 5_000]);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(5_000);
  });

  it('maps a 401 for polling too fast or wrong credentials to a typed error', async () => {
    const mock = mockFetch(() => json({ error: 'invalid_client' }, 401));
    await expect(profileGrant(make(mock.fetch))).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
  });
});

describe('shopware', () => {
  const SHOP = 'https://shop.example/';
  const ACCESS_KEY = 'SWIAACCESSKEY';
  const SECRET_KEY = 'sw-secret-access-key-1f2e';
  const USER = 'admin';
  const PASSWORD = 'sw-admin-password-8d7c';
  const TOKEN_URL = 'https://shop.example/api/oauth/token';
  const integration = (fetch?: Profile['fetch']) => shopware({ shopUrl: SHOP, clientId: ACCESS_KEY, clientSecret: SECRET_KEY, ...(fetch ? { fetch } : {}) });
  const admin = (fetch?: Profile['fetch']) => shopware({ shopUrl: SHOP, username: USER, password: PASSWORD, ...(fetch ? { fetch } : {}) });
  const answer = (fields: Record<string, unknown> = {}) => json({ token_type: 'Bearer', expires_in: 600, access_token: 'sw-at', ...fields });
  const swError = (status: number, ...errors: Record<string, unknown>[]) => () => json({ errors: errors.map((e) => ({ status: String(status), ...e })) }, status);

  it('integration: client_credentials with client_id and client_secret in a JSON body', async () => {
    const mock = mockFetch(() => answer());
    const tokens = await profileGrant(integration(mock.fetch), { now: () => NOW });
    expectTokenRequest(mock.requests[0]!, TOKEN_URL, 'application/json');
    expect(jsonBody(mock.requests[0]!)).toEqual({ grant_type: 'client_credentials', client_id: ACCESS_KEY, client_secret: SECRET_KEY });
    expect(tokens).toEqual({ accessToken: 'sw-at', tokenType: 'Bearer', expiresAt: NOW + 600_000 });
  });

  it('admin user: the password grant with client_id "administration" and "scopes": "write"', async () => {
    const mock = mockFetch(() => answer({ refresh_token: 'rt-1' }));
    const tokens = await profileGrant(admin(mock.fetch), { now: () => NOW });
    expectTokenRequest(mock.requests[0]!, TOKEN_URL, 'application/json');
    expect(jsonBody(mock.requests[0]!)).toEqual({ client_id: 'administration', grant_type: 'password', scopes: 'write', username: USER, password: PASSWORD });
    expect(tokens).toMatchObject({ accessToken: 'sw-at', tokenType: 'Bearer', expiresAt: NOW + 600_000, refreshToken: 'rt-1' });
  });

  it('admin user: refreshes with exactly grant_type, client_id and refresh_token, keeps the rotated one, and falls back to the password on invalid_grant', async () => {
    const time = fakeTime();
    const store = memoryStore();
    let n = 0;
    const issue: Responder = () => answer({ access_token: `at-${++n}`, refresh_token: `rt-${n}` });
    const mock = mockFetch(
      issue,
      issue,
      swError(400, { code: '8', title: 'The refresh token is invalid.', detail: 'Token has been revoked' }),
      issue,
    );
    const profile = admin(mock.fetch);
    const tokens = source(profile, time, { store });
    expect(await tokens.getToken()).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });

    time.clock.now += 600_000;
    expect(await tokens.getToken()).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-2' });
    expectTokenRequest(mock.requests[1]!, TOKEN_URL, 'application/json');
    expect(jsonBody(mock.requests[1]!)).toEqual({ grant_type: 'refresh_token', client_id: 'administration', refresh_token: 'rt-1' });
    expect((await store.get(storeKey(profile)))?.refreshToken).toBe('rt-2');

    time.clock.now += 600_000;
    expect(await tokens.getToken()).toMatchObject({ accessToken: 'at-3', refreshToken: 'rt-3' });
    mock.expectCount(4);
    expect(jsonBody(mock.requests[2]!)).toEqual({ grant_type: 'refresh_token', client_id: 'administration', refresh_token: 'rt-2' });
    expect(jsonBody(mock.requests[3]!)).toEqual({ client_id: 'administration', grant_type: 'password', scopes: 'write', username: USER, password: PASSWORD });
    expect((await store.get(storeKey(profile)))?.refreshToken).toBe('rt-3');
  });

  it('refreshTokenGrant sends the documented refresh body and keeps the old token when none comes back', async () => {
    const mock = mockFetch(() => answer());
    expect(await refreshTokenGrant(admin(mock.fetch), 'rt-x')).toMatchObject({ accessToken: 'sw-at', refreshToken: 'rt-x' });
    expect(jsonBody(mock.requests[0]!)).toEqual({ grant_type: 'refresh_token', client_id: 'administration', refresh_token: 'rt-x' });
  });

  const errors: [string, Responder, string, number, string | undefined][] = [
    [
      'wrong user credentials (league code 6)',
      swError(400, { code: '6', title: 'The user credentials were incorrect.', detail: 'The user credentials were incorrect.' }),
      'invalid_grant',
      400,
      'The user credentials were incorrect.',
    ],
    ['wrong user credentials with another code', swError(401, { code: '9', title: 'The user credentials were incorrect.' }), 'invalid_grant', 401, 'The user credentials were incorrect.'],
    [
      'a wrong integration secret',
      swError(401, { code: '4', title: 'Client authentication failed', detail: 'Client authentication failed' }),
      'invalid_client',
      401,
      'Client authentication failed',
    ],
    ['access denied', swError(401, { code: '9', title: 'The resource owner or authorization server denied the request.' }), 'access_denied', 401, undefined],
    ['an OAuth code as the code', swError(400, { code: 'invalid_scope', title: 'Bad scope', detail: 'Check the `write` scope' }), 'invalid_scope', 400, 'Bad scope: Check the `write` scope'],
    ['a Shopware code at 401', swError(401, { code: 'FRAMEWORK__UNAUTHORIZED', title: 'Unauthorized' }), 'invalid_client', 401, 'Unauthorized'],
    ['a Shopware code at 400', swError(400, { code: 'FRAMEWORK__INVALID_REQUEST', title: 'Bad Request', detail: 'grant_type is missing' }), 'invalid_request', 400, 'Bad Request: grant_type is missing'],
    ['a plain RFC 6749 body', () => json({ error: 'invalid_client', error_description: 'Client authentication failed' }, 401), 'invalid_client', 401, 'Client authentication failed'],
  ];
  for (const [name, responder, code, status, description] of errors) {
    it(`maps ${name} to ${code}`, async () => {
      const mock = mockFetch(responder);
      const error = await caught(profileGrant(admin(mock.fetch)));
      expect(isOAuthError(error)).toBe(true);
      expect(error).toMatchObject({ code, status });
      if (description !== undefined) expect((error as OAuthError).description).toBe(description);
    });
  }

  it('keeps the code and status of every error in details and redacts echoed credentials', async () => {
    const mock = mockFetch(
      swError(400, { code: '6', title: 'The user credentials were incorrect.', detail: `password ${PASSWORD} is wrong` }, { code: 'OTHER', title: 'x', meta: { p: PASSWORD } }),
    );
    const error = (await caught(profileGrant(admin(mock.fetch)))) as OAuthError;
    expect(error.details).toEqual([
      { code: '6', status: '400' },
      { code: 'OTHER', status: '400' },
    ]);
    expect(error.description).toBe('The user credentials were incorrect.: password [redacted] is wrong');
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(PASSWORD);
  });

  it('does not retry or fall back when the password itself is refused', async () => {
    const mock = mockFetch(swError(400, { code: '6', title: 'The user credentials were incorrect.' }));
    await expect(source(admin(mock.fetch), fakeTime()).getToken()).rejects.toMatchObject({ code: 'invalid_grant', status: 400 });
    mock.expectCount(1);
  });

  it('derives its endpoints from the shop URL and takes overrides', async () => {
    expect(admin()).toMatchObject({ name: 'shopware', clientId: 'administration', tokenUrl: TOKEN_URL, apiBaseUrl: 'https://shop.example', defaultLifetime: 600, bodyEncoding: 'json' });
    expect(shopware({ shopUrl: 'https://example.com/shop//', clientId: ACCESS_KEY, clientSecret: SECRET_KEY })).toMatchObject({
      clientId: ACCESS_KEY,
      tokenUrl: 'https://example.com/shop/api/oauth/token',
      apiBaseUrl: 'https://example.com/shop',
    });
    expect(shopware({ shopUrl: 'http://localhost:8000', username: USER, password: PASSWORD }).tokenUrl).toBe('http://localhost:8000/api/oauth/token');
    const mock = mockFetch(() => answer());
    const local = shopware({ shopUrl: SHOP, clientId: ACCESS_KEY, clientSecret: SECRET_KEY, tokenUrl: 'http://127.0.0.1:8787/sandbox/shopware/api/oauth/token', apiBaseUrl: 'http://127.0.0.1:8787/api/shopware/', fetch: mock.fetch });
    expect(local.apiBaseUrl).toBe('http://127.0.0.1:8787/api/shopware');
    await profileGrant(local);
    expect(mock.requests[0]!.url).toBe('http://127.0.0.1:8787/sandbox/shopware/api/oauth/token');
    expect(integration().secrets).toEqual([SECRET_KEY]);
    expect(admin().secrets).toEqual([PASSWORD]);
  });

  it('refuses mixed, incomplete and unsafe options', () => {
    throwsConfig(() => shopware({ shopUrl: SHOP, clientId: ACCESS_KEY, clientSecret: SECRET_KEY, username: USER, password: PASSWORD } as never), 'not both');
    throwsConfig(() => shopware({ shopUrl: SHOP, clientId: ACCESS_KEY, password: PASSWORD } as never), 'not both');
    throwsConfig(() => shopware({ shopUrl: SHOP } as never), 'clientId + clientSecret');
    throwsConfig(() => shopware({ shopUrl: SHOP, clientId: ACCESS_KEY } as never), 'clientSecret');
    throwsConfig(() => shopware({ shopUrl: SHOP, username: USER } as never), 'password');
    throwsConfig(() => shopware({ shopUrl: SHOP, username: '', password: PASSWORD }), 'username');
    throwsConfig(() => shopware({ shopUrl: '', username: USER, password: PASSWORD }), 'shopUrl');
    throwsConfig(() => shopware({ shopUrl: 'http://shop.example', username: USER, password: PASSWORD }), 'shopUrl must use https');
    throwsConfig(() => shopware({ shopUrl: 'https://shop.example/?x=1', username: USER, password: PASSWORD }), 'shopUrl must not contain a query');
  });
});

describe('instacart', () => {
  const ID = 'ic-client';
  const SECRET = 'ic-secret-0a9b8c';
  const DEV = 'https://connect.dev.instacart.tools';
  const make = (fetch?: Profile['fetch'], extra: Partial<Parameters<typeof instacart>[0]> = {}) =>
    instacart({ environment: 'development', clientId: ID, clientSecret: SECRET, scope: ['connect:fulfillment', 'connect:data_ingestion'], ...(fetch ? { fetch } : {}), ...extra });
  const single = { error: { message: 'Invalid user_id', code: 1001, meta: { key: 'user_id' } } };

  it('gets the app token with a JSON body of client_id, client_secret, grant_type and scope', async () => {
    const mock = mockFetch(() => json({ access_token: 'ic-app', token_type: 'Bearer', expires_in: 86_400 }));
    const tokens = await source(make(mock.fetch), fakeTime()).getToken();
    expectTokenRequest(mock.requests[0]!, `${DEV}/v2/oauth/token`, 'application/json');
    expect(jsonBody(mock.requests[0]!)).toEqual({
      grant_type: 'client_credentials',
      scope: 'connect:fulfillment connect:data_ingestion',
      client_id: ID,
      client_secret: SECRET,
    });
    expect(tokens).toEqual({ accessToken: 'ic-app', tokenType: 'Bearer', expiresAt: NOW + 86_400_000, scope: ['connect:fulfillment', 'connect:data_ingestion'] });
  });

  it('splits the granted scope on spaces and takes the scope as a string', async () => {
    const mock = mockFetch(() => tokenAnswer({ scope: 'connect:fulfillment' }));
    const profile = make(mock.fetch, { scope: 'connect:fulfillment  connect:data_ingestion' });
    expect(profile.scope).toEqual(['connect:fulfillment', 'connect:data_ingestion']);
    expect(await profileGrant(profile)).toMatchObject({ scope: ['connect:fulfillment'] });
  });

  it('authorizes a sandbox user with the documented request, then exchanges the code with the verifier', async () => {
    const pkce = await createPkce();
    const mock = mockFetch(
      () => json({ code: 'zth2LONsv7xVq76ocOcS9ZYwc_eZLdDNX74Z9gSgilk' }),
      () => json({ access_token: 'user-at', token_type: 'Bearer', expires_in: 3600, refresh_token: 'user-rt' }),
    );
    const profile = make(mock.fetch);
    const code = await authorizeSandboxUser(profile, {
      userId: 42,
      appToken: 'ic-app-token-123456',
      redirectUri: 'https://shop.example/link/instacart/callback',
      scope: 'connect:fulfillment',
      codeChallenge: pkce.challenge,
    });
    expect(code).toBe('zth2LONsv7xVq76ocOcS9ZYwc_eZLdDNX74Z9gSgilk');
    const authorize = mock.requests[0]!;
    expect(authorize.method).toBe('POST');
    expect(authorize.url).toBe(`${DEV}/v2/fulfillment_sandbox/instacart_users/42/authorize`);
    expect(authorize.redirect).toBe('manual');
    expect(authorize.headers.get('authorization')).toBe('Bearer ic-app-token-123456');
    expect(authorize.headers.get('content-type')).toBe('application/json');
    expect(authorize.headers.get('accept')).toBe('application/json');
    expect(jsonBody(authorize)).toEqual({
      redirect_uri: 'https://shop.example/link/instacart/callback',
      scope: 'connect:fulfillment',
      code_challenge_method: 'S256',
      code_challenge: pkce.challenge,
    });

    const tokens = await authorizationCodeGrant(profile, { code, codeVerifier: pkce.verifier, redirectUri: 'https://shop.example/link/instacart/callback' }, { now: () => NOW });
    expectTokenRequest(mock.requests[1]!, `${DEV}/v2/oauth/token`, 'application/json');
    expect(jsonBody(mock.requests[1]!)).toEqual({
      grant_type: 'authorization_code',
      code,
      code_verifier: pkce.verifier,
      redirect_uri: 'https://shop.example/link/instacart/callback',
      client_id: ID,
      client_secret: SECRET,
    });
    expect(tokens).toEqual({ accessToken: 'user-at', tokenType: 'Bearer', expiresAt: NOW + 3_600_000, refreshToken: 'user-rt' });
  });

  const sandboxInput = { userId: '7', appToken: 'ic-app-token-123456', redirectUri: 'https://shop.example/cb', scope: ['connect:fulfillment'], codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' };

  it('maps the documented 400 (code 1001, meta key user_id)', async () => {
    const mock = mockFetch(() => json(single, 400));
    const error = await caught(authorizeSandboxUser(make(mock.fetch), sandboxInput));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_request', status: 400, description: 'Invalid user_id', details: [{ code: 1001, key: 'user_id' }] });
    expect(mock.requests[0]!.url).toBe(`${DEV}/v2/fulfillment_sandbox/instacart_users/7/authorize`);
  });

  it('maps multiple errors, and the status to the OAuth code', async () => {
    const many = { errors: [{ message: 'Invalid user_id', code: 1001, meta: { key: 'user_id' } }, { message: 'Invalid scope', code: 1002, meta: { key: 'scope' } }] };
    const cases: [number, string][] = [
      [400, 'invalid_request'],
      [401, 'invalid_client'],
      [403, 'access_denied'],
      [404, 'server_error'],
      [500, 'server_error'],
    ];
    for (const [status, code] of cases) {
      const mock = mockFetch(() => json(many, status));
      const error = await caught(profileGrant(make(mock.fetch)));
      expect(error).toMatchObject({
        code,
        status,
        description: 'Invalid user_id; Invalid scope',
        details: [
          { code: 1001, key: 'user_id' },
          { code: 1002, key: 'scope' },
        ],
      });
    }
  });

  it('leaves a standard RFC 6749 error body to the standard mapping', async () => {
    const mock = mockFetch(() => json({ error: 'invalid_client', error_description: 'Client authentication failed' }, 401));
    const error = (await caught(profileGrant(make(mock.fetch)))) as OAuthError;
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, description: 'Client authentication failed' });
    expect(error.details).toBeUndefined();
  });

  it('redacts the app token and secrets the server echoes', async () => {
    const mock = mockFetch(() => json({ error: { message: `token ic-app-token-123456 expired for ${SECRET}`, code: 2001 } }, 401));
    const error = await caught(authorizeSandboxUser(make(mock.fetch), sandboxInput));
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect(`${error.message} ${JSON.stringify(error)}`).not.toMatch(/ic-app-token-123456|ic-secret-0a9b8c/);
  });

  it('refuses an answer without a code and bad sandbox input', async () => {
    const mock = mockFetch(() => json({ status: 'ok' }));
    await expect(authorizeSandboxUser(make(mock.fetch), sandboxInput)).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    const html = mockFetch(() => new Response('<html>login</html>', { headers: { 'content-type': 'text/html' } }));
    await expect(authorizeSandboxUser(make(html.fetch), sandboxInput)).rejects.toMatchObject({ code: ErrorCode.HTML_RESPONSE });
    const none = mockFetch(() => json({ code: 'never' }));
    const profile = make(none.fetch);
    await expect(authorizeSandboxUser(profile, { ...sandboxInput, userId: '1/../../admin' })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
    await expect(authorizeSandboxUser(profile, { ...sandboxInput, userId: -1 })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
    await expect(authorizeSandboxUser(profile, { ...sandboxInput, codeChallenge: 'plain-verifier' })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
    await expect(authorizeSandboxUser(profile, { ...sandboxInput, appToken: '' })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG, message: expect.stringContaining('appToken') });
    await expect(authorizeSandboxUser(profile, { ...sandboxInput, scope: [] })).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
    none.expectCount(0);
  });

  it('knows both hosts, takes overrides and holds its secret', async () => {
    expect(make(undefined, { environment: 'production' })).toMatchObject({
      name: 'instacart',
      tokenUrl: 'https://connect.instacart.com/v2/oauth/token',
      apiBaseUrl: 'https://connect.instacart.com',
      authorizeUrl: undefined,
    });
    expect(make()).toMatchObject({ tokenUrl: `${DEV}/v2/oauth/token`, apiBaseUrl: DEV });
    expect(make().secrets).toEqual([SECRET]);
    const mock = mockFetch(() => json({ code: 'c' }));
    const local = make(mock.fetch, {
      tokenUrl: 'http://127.0.0.1:8787/sandbox/instacart/v2/oauth/token',
      authorizeUrl: 'http://127.0.0.1:8787/sandbox/instacart/oauth/authorize',
      apiBaseUrl: 'http://127.0.0.1:8787/sandbox/instacart/',
    });
    expect(local).toMatchObject({ tokenUrl: 'http://127.0.0.1:8787/sandbox/instacart/v2/oauth/token', authorizeUrl: 'http://127.0.0.1:8787/sandbox/instacart/oauth/authorize' });
    await authorizeSandboxUser(local, sandboxInput);
    expect(mock.requests[0]!.url).toBe('http://127.0.0.1:8787/sandbox/instacart/v2/fulfillment_sandbox/instacart_users/7/authorize');
  });

  it('refuses an unknown environment, a missing scope and missing credentials', () => {
    throwsConfig(() => make(undefined, { environment: 'sandbox' as 'production' }), 'production, development');
    throwsConfig(() => make(undefined, { scope: '' }), 'scope');
    throwsConfig(() => make(undefined, { scope: [] }), 'scope');
    throwsConfig(() => make(undefined, { scope: ['a b'] }), 'scope');
    throwsConfig(() => make(undefined, { clientId: '' }), 'clientId');
    throwsConfig(() => make(undefined, { clientSecret: '' }), 'clientSecret');
    throwsConfig(() => make(undefined, { authorizeUrl: 'http://connect.example/authorize' }), 'authorizeUrl');
  });
});

describe('every vendor profile', () => {
  it('returns a plain-data profile naming itself', () => {
    const profiles: [string, Profile][] = [
      ['instabox', instabox({ clientId: 'a', clientSecret: 'b' })],
      ['eshopbox', eshopbox({ clientId: 'a', clientSecret: 'b', refreshToken: 'c' })],
      ['instellix', instellix({ realm: 'r', environment: 'production', clientId: 'a', clientSecret: 'b' })],
      ['shopware', shopware({ shopUrl: 'https://s.example', clientId: 'a', clientSecret: 'b' })],
      ['instacart', instacart({ environment: 'production', clientId: 'a', clientSecret: 'b', scope: 'x' })],
    ];
    for (const [name, profile] of profiles) {
      expect(profile.name).toBe(name);
      expect(profile.grant).toBeDefined();
      expect(Object.getPrototypeOf(profile)).toBe(Object.prototype);
      expect(profile.fetch).toBeUndefined();
    }
  });
});
