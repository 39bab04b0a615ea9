/**
 * The vendor sandbox against the five vendor documents (each cited by title in src/profiles/), run inside workerd. Raw requests
 * only: tokengate's own client code is not used here, so these tests check the sandbox, not the client.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, memoryStorage, SANDBOX_CREDENTIALS, type Sandbox, type SandboxOptions, type VendorName } from '../../sandbox/src/index.js';

/** A parsed wire body; tests check it field by field. */
type Body = any;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Body;
}

/** Every answer body and header seen by the whole file, for the final canary scan. */
const seen: string[] = [];

const C = SANDBOX_CREDENTIALS;
const ORIGIN = 'http://127.0.0.1';
const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);

let clock = T0;
let slept: number[] = [];
let sandbox: Sandbox;

function make(options: SandboxOptions = {}): Sandbox {
  return createSandbox({
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...options,
  });
}

beforeEach(() => {
  clock = T0;
  slept = [];
  sandbox = make();
});

async function send(request: Request, target: Sandbox = sandbox): Promise<Answer> {
  const response = await target.fetch(request);
  const text = await response.text();
  seen.push(text, JSON.stringify([...response.headers]));
  let body: Body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

function post(path: string, body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request(`${ORIGIN}${path}`, { method: 'POST', body, headers });
}

function postForm(path: string, params: Record<string, string>, headers: Record<string, string> = {}): Request {
  return post(path, new URLSearchParams(params).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
}

function postJson(path: string, params: unknown, headers: Record<string, string> = {}): Request {
  return post(path, JSON.stringify(params), { 'content-type': 'application/json', ...headers });
}

function get(path: string, token?: string): Request {
  return new Request(`${ORIGIN}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function basic(id: string, secret: string): string {
  return `Basic ${btoa(`${id}:${secret}`)}`;
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function expectTokenAnswerHeaders(answer: Answer): void {
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
}

function expectBearerChallenge(answer: Answer): void {
  expect(answer.status).toBe(401);
  expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
}

// ---- one valid token request per vendor ------------------------------------------------------------

const instaboxToken = (): Request =>
  postForm('/instabox/v1/token', { grant_type: 'client_credentials', client_id: C.instabox.clientId, client_secret: C.instabox.clientSecret });

const eshopboxToken = (): Request =>
  postForm('/eshopbox/oauth/token', {
    client_id: C.eshopbox.clientId,
    client_secret: C.eshopbox.clientSecret,
    grant_type: 'refresh_token',
    refresh_token: C.eshopbox.refreshToken,
  });

function instellixToken(realm = 'acme', authorization = basic(C.instellix.clientId, C.instellix.clientSecret)): Request {
  const form = new FormData();
  form.append('grant_type', 'client_credentials');
  return post(`/instellix/${realm}/oauth2/token`, form, { authorization });
}

const shopwareToken = (): Request =>
  postJson('/shopware/api/oauth/token', { grant_type: 'client_credentials', client_id: C.shopware.clientId, client_secret: C.shopware.clientSecret });

const shopwarePassword = (password = C.shopware.password): Request =>
  postJson('/shopware/api/oauth/token', { client_id: 'administration', grant_type: 'password', scopes: 'write', username: C.shopware.username, password });

const instacartToken = (scope?: string): Request =>
  postJson('/instacart/v2/oauth/token', {
    client_id: C.instacart.clientId,
    client_secret: C.instacart.clientSecret,
    grant_type: 'client_credentials',
    ...(scope === undefined ? {} : { scope }),
  });

const TOKEN_REQUESTS: Record<VendorName, () => Request> = {
  instabox: instaboxToken,
  eshopbox: eshopboxToken,
  instellix: () => instellixToken(),
  shopware: shopwareToken,
  instacart: () => instacartToken(),
};

/** The access token in a vendor's success answer. */
const accessToken = (vendor: VendorName, body: Body): string => (vendor === 'instabox' ? body.token : body.access_token);

const PROTECTED: Record<VendorName, string> = {
  instabox: '/instabox/v2/orders',
  eshopbox: '/eshopbox/api/v1/orders',
  instellix: '/instellix/api/v1/shipments',
  shopware: '/shopware/api/v3/product/b7d2554b0ce847cd82f3ac9bd1c0dfad',
  instacart: '/instacart/v2/fulfillment/stores',
};

const VENDORS = Object.keys(TOKEN_REQUESTS) as VendorName[];

// ---- Instacart account-linking helpers ---------------------------------------------------------------

const REDIRECT = 'https://shop.example/link/instacart/callback';
const VERIFIER = 'sandbox-test-verifier-0123456789abcdefghijklmnopqrstuvwxyz';

async function appToken(target: Sandbox = sandbox): Promise<string> {
  const answer = await send(instacartToken(), target);
  expect(answer.status).toBe(200);
  return answer.body.access_token;
}

async function createUser(app: string, target: Sandbox = sandbox): Promise<number> {
  const answer = await send(postJson('/instacart/v2/fulfillment_sandbox/instacart_users', { first_name: 'Grace', last_name: 'Hopper' }, bearer(app)), target);
  expect(answer.status).toBe(200);
  return answer.body.id;
}

async function authorize(app: string, userId: number | string, body: Record<string, unknown>): Promise<Answer> {
  return send(postJson(`/instacart/v2/fulfillment_sandbox/instacart_users/${userId}/authorize`, body, bearer(app)));
}

async function codeFor(app: string, userId: number, verifier = VERIFIER): Promise<string> {
  const answer = await authorize(app, userId, {
    redirect_uri: REDIRECT,
    scope: 'connect:fulfillment',
    code_challenge_method: 'S256',
    code_challenge: await s256(verifier),
  });
  expect(answer.status).toBe(200);
  return answer.body.code;
}

function exchange(code: string, verifier = VERIFIER, redirectUri = REDIRECT): Request {
  return postJson('/instacart/v2/oauth/token', {
    grant_type: 'authorization_code',
    client_id: C.instacart.clientId,
    client_secret: C.instacart.clientSecret,
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
  });
}

function instacartRefresh(refreshToken: string): Request {
  return postJson('/instacart/v2/oauth/token', {
    grant_type: 'refresh_token',
    client_id: C.instacart.clientId,
    client_secret: C.instacart.clientSecret,
    refresh_token: refreshToken,
  });
}

async function fault(spec: Record<string, unknown>, target: Sandbox = sandbox): Promise<Answer> {
  return send(postJson('/_faults', spec), target);
}

// ======================================================================================================

describe('routing', () => {
  it('reads only the path, whatever the origin', async () => {
    const foreign = new Request('https://edge.example:8443/instabox/v1/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: C.instabox.clientId, client_secret: C.instabox.clientSecret }),
    });
    expect((await send(foreign)).status).toBe(200);
  });

  it('answers an unknown path 404 JSON without echoing it', async () => {
    const answer = await send(get('/nowhere/instabox-sandbox-path-canary'));
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ error: 'not_found', message: 'No sandbox route for this path' });
    expect(answer.text).not.toContain('canary');
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('answers a known path with the wrong method 405 with Allow', async () => {
    const answer = await send(get('/instabox/v1/token'));
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('POST');
    expect(sandbox.stats().tokenRequests.instabox).toBe(0);
  });
});

describe('Instabox ("Authentication")', () => {
  it('answers exactly {"status":"OK","token"} with no expiry, a token over 255 characters', async () => {
    const answer = await send(instaboxToken());
    expect(answer.status).toBe(200);
    expectTokenAnswerHeaders(answer);
    expect(Object.keys(answer.body)).toEqual(['status', 'token']);
    expect(answer.body.status).toBe('OK');
    expect(answer.body.token.length).toBeGreaterThan(400);
    expect(answer.body.token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('issues a fresh random token every time', async () => {
    const a = await send(instaboxToken());
    const b = await send(instaboxToken());
    expect(a.body.token).not.toBe(b.body.token);
  });

  it('refuses wrong credentials with 401 Invalid credentials', async () => {
    for (const [id, secret] of [
      [C.instabox.clientId, 'wrong'],
      ['someone-else', C.instabox.clientSecret],
    ] as const) {
      const answer = await send(postForm('/instabox/v1/token', { grant_type: 'client_credentials', client_id: id, client_secret: secret }));
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ status: 'ERROR', message: 'Invalid credentials' });
    }
  });

  it('refuses anything but a form body with 400 Malformed request', async () => {
    const params = { grant_type: 'client_credentials', client_id: C.instabox.clientId, client_secret: C.instabox.clientSecret };
    for (const request of [
      postJson('/instabox/v1/token', params),
      post('/instabox/v1/token', new URLSearchParams(params).toString()),
      post('/instabox/v1/token', new URLSearchParams(params).toString(), { 'content-type': 'text/plain' }),
    ]) {
      const answer = await send(request);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ status: 'ERROR', message: 'Malformed request' });
    }
  });

  it('refuses a missing or other grant_type and missing credentials with 400', async () => {
    for (const params of [
      { client_id: C.instabox.clientId, client_secret: C.instabox.clientSecret },
      { grant_type: 'password', client_id: C.instabox.clientId, client_secret: C.instabox.clientSecret },
      { grant_type: 'client_credentials', client_id: C.instabox.clientId },
    ]) {
      const answer = await send(postForm('/instabox/v1/token', params));
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ status: 'ERROR', message: 'Malformed request' });
    }
  });

  it('takes form bodies with a charset parameter', async () => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: C.instabox.clientId, client_secret: C.instabox.clientSecret });
    const answer = await send(post('/instabox/v1/token', body.toString(), { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }));
    expect(answer.status).toBe(200);
  });

  it('serves orders (GET and POST) behind the bearer until the 24 h expiry', async () => {
    const token = (await send(instaboxToken())).body.token;
    const list = await send(get('/instabox/v2/orders', token));
    expect(list.status).toBe(200);
    expect(list.body.orders.length).toBeGreaterThan(0);
    const created = await send(post('/instabox/v2/orders', '{}', { ...bearer(token), 'content-type': 'application/json' }));
    expect(created.status).toBe(200);
    expect(created.body.orders).toHaveLength(1);

    clock = T0 + 86_400_000 - 1;
    expect((await send(get('/instabox/v2/orders', token))).status).toBe(200);
    clock = T0 + 86_400_000;
    const expired = await send(get('/instabox/v2/orders', token));
    expectBearerChallenge(expired);
    expect(expired.body).toEqual({ status: 'ERROR', message: 'Unauthorized' });
  });

  it('answers a missing or unknown bearer 401 (RFC 6750 challenge)', async () => {
    const missing = await send(get('/instabox/v2/orders'));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="instabox"');
    expectBearerChallenge(await send(get('/instabox/v2/orders', 'not-a-real-token')));
    const basicAuth = await send(new Request(`${ORIGIN}/instabox/v2/orders`, { headers: { authorization: basic('a', 'b') } }));
    expectBearerChallenge(basicAuth);
  });

  it("refuses another vendor's token", async () => {
    const eshopbox = (await send(eshopboxToken())).body.access_token;
    expectBearerChallenge(await send(get('/instabox/v2/orders', eshopbox)));
  });
});

describe('Eshopbox ("Generating access token")', () => {
  it('exchanges the app refresh token for {"access_token","scope","expires_in","token_type"}', async () => {
    const answer = await send(eshopboxToken());
    expect(answer.status).toBe(200);
    expectTokenAnswerHeaders(answer);
    expect(Object.keys(answer.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(answer.body).toMatchObject({ scope: 'openid,profile', expires_in: 3600, token_type: 'Bearer' });
    expect(answer.body).not.toHaveProperty('refresh_token');
  });

  it('does not rotate the app refresh token', async () => {
    const a = await send(eshopboxToken());
    const b = await send(eshopboxToken());
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.access_token).not.toBe(b.body.access_token);
  });

  it('takes the same parameters as JSON', async () => {
    const answer = await send(
      postJson('/eshopbox/oauth/token', {
        client_id: C.eshopbox.clientId,
        client_secret: C.eshopbox.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: C.eshopbox.refreshToken,
      }),
    );
    expect(answer.status).toBe(200);
  });

  const params = (overrides: Record<string, string | undefined>): Record<string, string> =>
    Object.fromEntries(
      Object.entries({
        client_id: C.eshopbox.clientId,
        client_secret: C.eshopbox.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: C.eshopbox.refreshToken,
        ...overrides,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );

  it.each([
    ['wrong secret', { client_secret: 'wrong' }, 401, 'invalid_client'],
    ['wrong client', { client_id: 'other-app' }, 401, 'invalid_client'],
    ['wrong refresh token', { refresh_token: 'not-the-app-token' }, 400, 'invalid_grant'],
    ['other grant', { grant_type: 'client_credentials' }, 400, 'unsupported_grant_type'],
    ['no grant_type', { grant_type: undefined }, 400, 'invalid_request'],
    ['no refresh_token', { refresh_token: undefined }, 400, 'invalid_request'],
  ] as const)('answers %s in RFC 6749 shape', async (_name, overrides, status, error) => {
    const answer = await send(postForm('/eshopbox/oauth/token', params(overrides)));
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error, error_description: expect.any(String) });
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a body that is neither form nor JSON', async () => {
    const answer = await send(post('/eshopbox/oauth/token', new URLSearchParams(params({})).toString(), { 'content-type': 'text/plain' }));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_request');
  });

  it('serves orders until expires_in has passed, and honours a lifetime override', async () => {
    const token = (await send(eshopboxToken())).body.access_token;
    clock = T0 + 3_599_999;
    expect((await send(get('/eshopbox/api/v1/orders', token))).status).toBe(200);
    clock = T0 + 3_600_000;
    const expired = await send(get('/eshopbox/api/v1/orders', token));
    expectBearerChallenge(expired);
    expect(expired.body.error).toBe('invalid_token');

    clock = T0;
    const short = make({ lifetimes: { eshopbox: 2 } });
    const answer = await send(eshopboxToken(), short);
    expect(answer.body.expires_in).toBe(2);
    clock = T0 + 2000;
    expect((await send(get('/eshopbox/api/v1/orders', answer.body.access_token), short)).status).toBe(401);
  });
});

describe('instellix ("Introduction")', () => {
  it('answers plain-Basic client_credentials with an opaque lowercase-bearer token, 300 s by default', async () => {
    const answer = await send(instellixToken());
    expect(answer.status).toBe(200);
    expectTokenAnswerHeaders(answer);
    expect(Object.keys(answer.body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(answer.body).toMatchObject({ token_type: 'bearer', expires_in: 300 });
    expect(answer.body.access_token).not.toContain('.');
  });

  it('takes an urlencoded form body too', async () => {
    const answer = await send(
      postForm('/instellix/acme/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(C.instellix.clientId, C.instellix.clientSecret) }),
    );
    expect(answer.status).toBe(200);
  });

  it('answers an unknown realm 404', async () => {
    const answer = await send(instellixToken('globex'));
    expect(answer.status).toBe(404);
    expect(answer.body.error).toBe('not_found');
  });

  it('refuses wrong, missing, form-encoded or body credentials with 401', async () => {
    const formEncoded = basic(new URLSearchParams({ a: C.instellix.clientId }).toString().slice(2), new URLSearchParams({ a: C.instellix.clientSecret }).toString().slice(2));
    expect(formEncoded).not.toBe(basic(C.instellix.clientId, C.instellix.clientSecret));
    for (const request of [
      instellixToken('acme', basic(C.instellix.clientId, 'wrong')),
      instellixToken('acme', formEncoded),
      instellixToken('acme', 'Basic !!!not-base64'),
      postForm('/instellix/acme/oauth2/token', { grant_type: 'client_credentials', client_id: C.instellix.clientId, client_secret: C.instellix.clientSecret }),
    ]) {
      const answer = await send(request);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: 'unauthorized', error_description: 'Bad credentials' });
    }
    expect(sandbox.stats().refusedPolls).toBe(0);
  });

  it('refuses a JSON body and other grants with 400', async () => {
    const json = await send(postJson('/instellix/acme/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(C.instellix.clientId, C.instellix.clientSecret) }));
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    const form = new FormData();
    form.append('grant_type', 'password');
    const other = await send(post('/instellix/acme/oauth2/token', form, { authorization: basic(C.instellix.clientId, C.instellix.clientSecret) }));
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('unsupported_grant_type');
  });

  it('THE 5 S RULE: a second token request within 5000 ms is 401 even with correct credentials', async () => {
    expect((await send(instellixToken())).status).toBe(200);
    clock = T0 + 4999;
    const refused = await send(instellixToken());
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'unauthorized', error_description: 'Too many token requests' });
    expect(sandbox.stats().refusedPolls).toBe(1);
    clock = T0 + 5000;
    expect((await send(instellixToken())).status).toBe(200);
    expect(sandbox.stats()).toMatchObject({ refusedPolls: 1, tokenRequests: { instellix: 3 } });
  });

  it('serves shipments and any other resource behind the bearer until 300 s', async () => {
    const token = (await send(instellixToken())).body.access_token;
    const shipments = await send(get('/instellix/api/v1/shipments', token));
    expect(shipments.status).toBe(200);
    expect(shipments.body.items.length).toBeGreaterThan(0);
    expect((await send(get('/instellix/some-resource', token))).status).toBe(200);
    clock = T0 + 299_999;
    expect((await send(get('/instellix/api/v1/shipments', token))).status).toBe(200);
    clock = T0 + 300_000;
    expectBearerChallenge(await send(get('/instellix/api/v1/shipments', token)));
    expect((await send(get('/instellix/some-resource'))).status).toBe(401);
  });
});

describe('Shopware ("Authentication")', () => {
  it('client_credentials answers {"token_type","expires_in":600,"access_token"} with no refresh token', async () => {
    const answer = await send(shopwareToken());
    expect(answer.status).toBe(200);
    expectTokenAnswerHeaders(answer);
    expect(Object.keys(answer.body)).toEqual(['token_type', 'expires_in', 'access_token']);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
  });

  it('refuses wrong integration credentials with 401 in the errors shape', async () => {
    const answer = await send(
      postJson('/shopware/api/oauth/token', { grant_type: 'client_credentials', client_id: C.shopware.clientId, client_secret: 'wrong' }),
    );
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ errors: [{ code: 'invalid_client', status: '401', title: 'Unauthorized', detail: expect.any(String) }] });
  });

  it('takes only JSON bodies', async () => {
    const form = await send(postForm('/shopware/api/oauth/token', { grant_type: 'client_credentials', client_id: C.shopware.clientId, client_secret: C.shopware.clientSecret }));
    expect(form.status).toBe(400);
    expect(form.body.errors[0]).toMatchObject({ code: 'invalid_request', status: '400', title: 'Bad Request' });
    const broken = await send(post('/shopware/api/oauth/token', '{"grant_type":', { 'content-type': 'application/json' }));
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0].code).toBe('invalid_request');
  });

  it('answers an unknown grant 400 unsupported_grant_type', async () => {
    const answer = await send(postJson('/shopware/api/oauth/token', { grant_type: 'implicit', client_id: 'administration' }));
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].code).toBe('unsupported_grant_type');
  });

  it('password grant (client_id administration, scopes write) also returns a refresh_token', async () => {
    const answer = await send(shopwarePassword());
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body)).toEqual(['token_type', 'expires_in', 'access_token', 'refresh_token']);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
  });

  it('refuses wrong user credentials, another client id and unknown scopes', async () => {
    const wrong = await send(shopwarePassword('wrong-password'));
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({
      errors: [{ code: 'invalid_grant', status: '400', title: 'Bad Request', detail: 'The user credentials were incorrect.' }],
    });
    const otherClient = await send(
      postJson('/shopware/api/oauth/token', { client_id: C.shopware.clientId, grant_type: 'password', scopes: 'write', username: C.shopware.username, password: C.shopware.password }),
    );
    expect(otherClient.status).toBe(401);
    expect(otherClient.body.errors[0].code).toBe('invalid_client');
    const scope = await send(
      postJson('/shopware/api/oauth/token', { client_id: 'administration', grant_type: 'password', scopes: 'root', username: C.shopware.username, password: C.shopware.password }),
    );
    expect(scope.status).toBe(400);
    expect(scope.body.errors[0].code).toBe('invalid_scope');
  });

  it('rotates refresh tokens: a new pair, the old refresh token and access token dead', async () => {
    const first = (await send(shopwarePassword())).body;
    const refresh = (token: string): Request =>
      postJson('/shopware/api/oauth/token', { grant_type: 'refresh_token', client_id: 'administration', refresh_token: token });
    const second = await send(refresh(first.refresh_token));
    expect(second.status).toBe(200);
    expect(Object.keys(second.body)).toEqual(['token_type', 'expires_in', 'access_token', 'refresh_token']);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.access_token).not.toBe(first.access_token);

    const replay = await send(refresh(first.refresh_token));
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ errors: [{ code: 'invalid_grant', status: '400', title: 'Bad Request', detail: 'The refresh token is invalid.' }] });

    expectBearerChallenge(await send(get(PROTECTED.shopware, first.access_token)));
    expect((await send(get(PROTECTED.shopware, second.body.access_token))).status).toBe(200);
    expect((await send(refresh(second.body.refresh_token))).status).toBe(200);

    const wrongClient = await send(postJson('/shopware/api/oauth/token', { grant_type: 'refresh_token', client_id: 'other', refresh_token: second.body.refresh_token }));
    expect(wrongClient.status).toBe(401);
  });

  it('serves a product behind the bearer until 600 s', async () => {
    const token = (await send(shopwareToken())).body.access_token;
    const product = await send(get(PROTECTED.shopware, token));
    expect(product.status).toBe(200);
    expect(product.body.data).toMatchObject({ id: 'b7d2554b0ce847cd82f3ac9bd1c0dfad', type: 'product' });
    const invalidId = await send(get('/shopware/api/v3/product/not-a-uuid', token));
    expect(invalidId.status).toBe(400);
    clock = T0 + 599_999;
    expect((await send(get(PROTECTED.shopware, token))).status).toBe(200);
    clock = T0 + 600_000;
    const expired = await send(get(PROTECTED.shopware, token));
    expectBearerChallenge(expired);
    expect(expired.body.errors[0]).toMatchObject({ status: '401', title: 'Unauthorized' });
  });
});

describe('Instacart Connect ("Authorize an Instacart user for account linking")', () => {
  it('client_credentials answers an app token {"access_token","token_type","expires_in","scope"}', async () => {
    const answer = await send(instacartToken('connect:fulfillment'));
    expect(answer.status).toBe(200);
    expectTokenAnswerHeaders(answer);
    expect(Object.keys(answer.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 86_400, scope: 'connect:fulfillment' });
  });

  it('takes a form body too, and refuses wrong credentials and other content types', async () => {
    const form = await send(
      postForm('/instacart/v2/oauth/token', { client_id: C.instacart.clientId, client_secret: C.instacart.clientSecret, grant_type: 'client_credentials' }),
    );
    expect(form.status).toBe(200);
    const wrong = await send(postJson('/instacart/v2/oauth/token', { client_id: C.instacart.clientId, client_secret: 'wrong', grant_type: 'client_credentials' }));
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    const text = await send(post('/instacart/v2/oauth/token', 'grant_type=client_credentials', { 'content-type': 'text/plain' }));
    expect(text.status).toBe(400);
    expect(text.body.error).toBe('invalid_request');
    const grant = await send(postJson('/instacart/v2/oauth/token', { client_id: C.instacart.clientId, client_secret: C.instacart.clientSecret, grant_type: 'password' }));
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe('unsupported_grant_type');
  });

  it('links a user: create → authorize with S256 → exchange with the verifier → users/self', async () => {
    const app = await appToken();
    const userId = await createUser(app);
    expect(Number.isInteger(userId)).toBe(true);

    const code = await codeFor(app, userId);
    expect(code).toMatch(/^[\w-]{43}$/);

    const tokens = await send(exchange(code));
    expect(tokens.status).toBe(200);
    expectTokenAnswerHeaders(tokens);
    expect(Object.keys(tokens.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 86_400, scope: 'connect:fulfillment' });

    const self = await send(get('/instacart/v2/fulfillment/users/self', tokens.body.access_token));
    expect(self.status).toBe(200);
    expect(self.body).toMatchObject({ id: userId, first_name: 'Grace' });

    expect((await send(get('/instacart/v2/fulfillment/stores', app))).status).toBe(200);
    expect((await send(get('/instacart/v2/fulfillment/stores', tokens.body.access_token))).status).toBe(200);
    const appOnSelf = await send(get('/instacart/v2/fulfillment/users/self', app));
    expect(appOnSelf.status).toBe(403);
    expect(appOnSelf.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');

    clock = T0 + 86_400_000;
    expectBearerChallenge(await send(get('/instacart/v2/fulfillment/users/self', tokens.body.access_token)));
  });

  it('matches the RFC 7636 Appendix B vector', async () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    expect(await s256(verifier)).toBe(challenge);
    const app = await appToken();
    const userId = await createUser(app);
    const code = (await authorize(app, userId, { redirect_uri: REDIRECT, scope: 'connect:fulfillment', code_challenge_method: 'S256', code_challenge: challenge })).body.code;
    expect((await send(exchange(code, verifier))).status).toBe(200);
  });

  it('refuses a reused code with invalid_grant and revokes the tokens issued from it', async () => {
    const app = await appToken();
    const code = await codeFor(app, await createUser(app));
    const tokens = (await send(exchange(code))).body;
    const replay = await send(exchange(code));
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    expect(replay.text).not.toContain(code);
    expectBearerChallenge(await send(get('/instacart/v2/fulfillment/users/self', tokens.access_token)));
    expect((await send(instacartRefresh(tokens.refresh_token))).body.error).toBe('invalid_grant');
    expect((await send(get('/instacart/v2/fulfillment/stores', app))).status).toBe(200);
  });

  it('refuses a wrong verifier, and the code is spent after that attempt', async () => {
    const app = await appToken();
    const code = await codeFor(app, await createUser(app));
    const wrongVerifier = 'wrong-verifier-wrong-verifier-wrong-verifier-000';
    const wrong = await send(exchange(code, wrongVerifier));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    expect(wrong.text).not.toContain(wrongVerifier);
    expect((await send(exchange(code))).status).toBe(400);
  });

  it('refuses another redirect_uri, an expired code (60 s) and missing parameters', async () => {
    const app = await appToken();
    const userId = await createUser(app);
    expect((await send(exchange(await codeFor(app, userId), VERIFIER, 'https://evil.example/cb'))).body.error).toBe('invalid_grant');

    const late = await codeFor(app, userId);
    clock = T0 + 60_000;
    expect((await send(exchange(late))).body.error).toBe('invalid_grant');

    const missing = await send(postJson('/instacart/v2/oauth/token', { grant_type: 'authorization_code', client_id: C.instacart.clientId, client_secret: C.instacart.clientSecret, code: 'x' }));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');

    const noSecret = await send(postJson('/instacart/v2/oauth/token', { grant_type: 'authorization_code', client_id: C.instacart.clientId, code: 'x', code_verifier: VERIFIER, redirect_uri: REDIRECT }));
    expect(noSecret.status).toBe(401);
    expect(noSecret.body.error).toBe('invalid_client');
  });

  it('rotates user refresh tokens', async () => {
    const app = await appToken();
    const first = (await send(exchange(await codeFor(app, await createUser(app))))).body;
    const second = await send(instacartRefresh(first.refresh_token));
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.scope).toBe('connect:fulfillment');
    const replay = await send(instacartRefresh(first.refresh_token));
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await send(get('/instacart/v2/fulfillment/users/self', second.body.access_token))).status).toBe(200);
  });

  it('answers an invalid or unknown user_id with the single error shape', async () => {
    const app = await appToken();
    const valid = { redirect_uri: REDIRECT, scope: 'connect:fulfillment', code_challenge_method: 'S256', code_challenge: await s256(VERIFIER) };
    for (const userId of ['abc', '999999', '0', '1.5']) {
      const answer = await authorize(app, userId, valid);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: { message: 'Invalid user_id', code: 1001, meta: { key: 'user_id' } } });
    }
  });

  it('answers several validation errors at once with the errors shape', async () => {
    const app = await appToken();
    const userId = await createUser(app);
    const answer = await authorize(app, userId, { scope: 'connect:fulfillment', code_challenge_method: 'S256' });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      errors: [
        { message: 'Invalid redirect_uri', code: 1001, meta: { key: 'redirect_uri' } },
        { message: 'Invalid code_challenge', code: 1001, meta: { key: 'code_challenge' } },
      ],
    });
  });

  it('takes S256 only: plain is refused with meta key code_challenge_method', async () => {
    const app = await appToken();
    const userId = await createUser(app);
    const answer = await authorize(app, userId, { redirect_uri: REDIRECT, scope: 'connect:fulfillment', code_challenge_method: 'plain', code_challenge: VERIFIER.slice(0, 43) });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { message: 'Invalid code_challenge_method', code: 1001, meta: { key: 'code_challenge_method' } } });
  });

  it('needs the app bearer token on the fulfillment sandbox', async () => {
    const noToken = await send(postJson('/instacart/v2/fulfillment_sandbox/instacart_users', {}));
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual({ error: { message: 'Unauthorized', code: 1000 } });
    const app = await appToken();
    const userId = await createUser(app);
    const user = (await send(exchange(await codeFor(app, userId)))).body.access_token;
    const withUser = await authorize(user, userId, {});
    expect(withUser.status).toBe(403);
    expect(withUser.body.error.code).toBe(1000);
  });

  it('creates users with increasing integer ids, body optional', async () => {
    const app = await appToken();
    const a = await send(post('/instacart/v2/fulfillment_sandbox/instacart_users', null, bearer(app)));
    const b = await send(post('/instacart/v2/fulfillment_sandbox/instacart_users', null, bearer(app)));
    expect(Object.keys(a.body)).toEqual(['id']);
    expect(b.body.id).toBe(a.body.id + 1);
    const broken = await send(post('/instacart/v2/fulfillment_sandbox/instacart_users', '{', { ...bearer(app), 'content-type': 'application/json' }));
    expect(broken.status).toBe(400);
    expect(broken.body.error.meta.key).toBe('body');
  });
});

describe('faults', () => {
  it.each(VENDORS)('5xx: the next %s token answer is 503, then normal again', async (vendor) => {
    expect((await fault({ vendor, fault: '5xx' })).status).toBe(204);
    const failed = await send(TOKEN_REQUESTS[vendor]());
    expect(failed.status).toBe(503);
    expect(failed.headers.get('cache-control')).toBe('no-store');
    const ok = await send(TOKEN_REQUESTS[vendor]());
    expect(ok.status).toBe(200);
    expect(sandbox.stats().tokenRequests[vendor]).toBe(2);
  });

  it.each(VENDORS)('429 with Retry-After, for count answers (%s)', async (vendor) => {
    await fault({ vendor, fault: '429', count: 2, retryAfter: 7 });
    for (let i = 0; i < 2; i++) {
      const limited = await send(TOKEN_REQUESTS[vendor]());
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
    }
    expect((await send(TOKEN_REQUESTS[vendor]())).status).toBe(200);
  });

  it('429 defaults to Retry-After: 1', async () => {
    await fault({ vendor: 'instabox', fault: '429' });
    expect((await send(instaboxToken())).headers.get('retry-after')).toBe('1');
  });

  it.each(VENDORS)('slow: waits delayMs through options.sleep, then answers normally (%s)', async (vendor) => {
    await fault({ vendor, fault: 'slow', delayMs: 1234 });
    const answer = await send(TOKEN_REQUESTS[vendor]());
    expect(answer.status).toBe(200);
    expect(accessToken(vendor, answer.body)).toEqual(expect.any(String));
    expect(slept).toEqual([1234]);
    await fault({ vendor, fault: 'slow' });
    await send(TOKEN_REQUESTS[vendor]());
    expect(slept).toEqual([1234, 2000]);
  });

  it('slow uses setTimeout when no sleep is injected', async () => {
    const real = createSandbox();
    await fault({ vendor: 'instabox', fault: 'slow', delayMs: 30 }, real);
    const started = Date.now();
    expect((await send(instaboxToken(), real)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it.each(VENDORS)('truncated: 200 JSON content type with a body cut mid-way (%s)', async (vendor) => {
    await fault({ vendor, fault: 'truncated' });
    const answer = await send(TOKEN_REQUESTS[vendor]());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.text.length).toBeGreaterThan(10);
    expect(() => JSON.parse(answer.text)).toThrow();
  });

  it.each(VENDORS)('html: a 200 text/html login page (%s)', async (vendor) => {
    await fault({ vendor, fault: 'html' });
    const answer = await send(TOKEN_REQUESTS[vendor]());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.text).toContain('<form');
  });

  it.each(VENDORS)('revoke: every %s access token issued so far is dead at once; new ones work', async (vendor) => {
    const before = accessToken(vendor, (await send(TOKEN_REQUESTS[vendor]())).body);
    expect((await send(get(PROTECTED[vendor], before))).status).toBe(200);
    const other = vendor === 'instabox' ? 'eshopbox' : 'instabox';
    const otherToken = accessToken(other, (await send(TOKEN_REQUESTS[other]())).body);

    expect((await fault({ vendor, fault: 'revoke' })).status).toBe(204);
    expectBearerChallenge(await send(get(PROTECTED[vendor], before)));
    expect((await send(get(PROTECTED[other], otherToken))).status).toBe(200);

    clock += 10_000; // past instellix's 5 s window
    if (vendor !== 'eshopbox') {
      const after = accessToken(vendor, (await send(TOKEN_REQUESTS[vendor]())).body);
      expect((await send(get(PROTECTED[vendor], after))).status).toBe(200);
    }
  });

  it('revoke kills refresh tokens: Eshopbox app token, Shopware and Instacart user tokens → invalid_grant', async () => {
    await fault({ vendor: 'eshopbox', fault: 'revoke' });
    const eshopbox = await send(eshopboxToken());
    expect(eshopbox.status).toBe(400);
    expect(eshopbox.body.error).toBe('invalid_grant');

    const shopware = (await send(shopwarePassword())).body;
    await fault({ vendor: 'shopware', fault: 'revoke' });
    const swRefresh = await send(postJson('/shopware/api/oauth/token', { grant_type: 'refresh_token', client_id: 'administration', refresh_token: shopware.refresh_token }));
    expect(swRefresh.status).toBe(400);
    expect(swRefresh.body.errors[0].code).toBe('invalid_grant');

    const app = await appToken();
    const userId = await createUser(app);
    const user = (await send(exchange(await codeFor(app, userId)))).body;
    const pending = await codeFor(app, userId);
    await fault({ vendor: 'instacart', fault: 'revoke' });
    expect((await send(instacartRefresh(user.refresh_token))).body.error).toBe('invalid_grant');
    expect((await send(exchange(pending))).body.error).toBe('invalid_grant');
  });

  it('none disarms a fault; faults never touch protected endpoints', async () => {
    await fault({ vendor: 'instabox', fault: '5xx', count: 3 });
    await fault({ vendor: 'instabox', fault: 'none' });
    const token = (await send(instaboxToken())).body.token;
    await fault({ vendor: 'instabox', fault: '5xx' });
    expect((await send(get('/instabox/v2/orders', token))).status).toBe(200);
    expect((await send(instaboxToken())).status).toBe(503);
  });

  it('a faulted instellix request does not start the 5 s window', async () => {
    await fault({ vendor: 'instellix', fault: '5xx' });
    expect((await send(instellixToken())).status).toBe(503);
    expect((await send(instellixToken())).status).toBe(200);
    expect(sandbox.stats().refusedPolls).toBe(0);
  });

  it('refuses bad fault requests with 400, without echoing them', async () => {
    for (const spec of [
      { vendor: 'acme-sandbox-secret', fault: '5xx' },
      { vendor: 'instabox', fault: 'meltdown' },
      { vendor: 'instabox', fault: '5xx', count: 0 },
      { vendor: 'instabox', fault: '429', retryAfter: -1 },
      { vendor: 'instabox', fault: 'slow', delayMs: 'long' },
      [],
    ]) {
      const answer = await fault(spec as Record<string, unknown>);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_fault');
      expect(answer.text).not.toContain('acme');
    }
    const notJson = await send(post('/_faults', 'vendor=instabox', { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(notJson.status).toBe(415);
    expect((await send(get('/_faults'))).status).toBe(405);
  });
});

describe('the controls cannot be driven cross-site (row 22)', () => {
  const DEMO = 'http://127.0.0.1:8787';
  const controlled = (): Sandbox => createSandbox({ now: () => T0, sleep: async () => {}, allowedOrigins: [DEMO] });
  const revoke = JSON.stringify({ vendor: 'instabox', fault: 'revoke' });

  it('a simple cross-site POST (text/plain, what a no-cors fetch or a form can send) changes nothing', async () => {
    const s = controlled();
    const token = await s.fetch(post('/instabox/v1/token', new URLSearchParams({ grant_type: 'client_credentials', client_id: C.instabox.clientId, client_secret: C.instabox.clientSecret }), { 'content-type': 'application/x-www-form-urlencoded' }));
    const issued = ((await token.json()) as { token: string }).token;
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const forged = await s.fetch(post('/_faults', revoke, { 'content-type': type, origin: 'https://attacker.example' }));
      expect(forged.status, type).toBe(415);
      expect((await s.fetch(post('/_reset', '{}', { 'content-type': type }))).status, type).toBe(415);
    }
    // The token still works and nothing was counted as reset.
    expect((await s.fetch(get('/instabox/v2/orders', issued))).status).toBe(200);
    expect(s.stats().tokenRequests.instabox).toBe(1);
  });

  it('CORS admits the configured origin only, never with credentials; a foreign preflight is refused', async () => {
    const s = controlled();
    const preflight = (origin: string): Request => new Request(`${ORIGIN}/_faults`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const allowed = await s.fetch(preflight(DEMO));
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(DEMO);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const foreign = await s.fetch(preflight('https://attacker.example'));
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const stats = await s.fetch(new Request(`${ORIGIN}/_stats`, { headers: { origin: 'https://attacker.example' } }));
    expect(stats.headers.get('access-control-allow-origin')).toBeNull();
    // A vendor endpoint never carries CORS headers, even for the demo's origin.
    const vendor = await s.fetch(new Request(`${ORIGIN}/instabox/v2/orders`, { headers: { origin: DEMO } }));
    expect(vendor.headers.get('access-control-allow-origin')).toBeNull();
    // The standard server's metadata and token endpoints answer any page, without credentials, as an
    // authorization server does for single-page apps; its authorize and introspection endpoints do not.
    for (const path of ['/.well-known/oauth-authorization-server/oauth2', '/oauth2/token']) {
      const answer = await s.fetch(new Request(`${ORIGIN}${path}`, { method: path.endsWith('token') ? 'POST' : 'GET', headers: { origin: 'https://shop.example' } }));
      expect(answer.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(answer.headers.get('access-control-allow-credentials'), path).toBeNull();
    }
    for (const path of ['/oauth2/authorize', '/oauth2/introspect']) {
      const answer = await s.fetch(new Request(`${ORIGIN}${path}`, { headers: { origin: 'https://shop.example' } }));
      expect(answer.headers.get('access-control-allow-origin'), path).toBeNull();
    }
  });

  it('the echo reports a Cookie header by its length, never its value', async () => {
    const answer = await send(new Request(`${ORIGIN}/_echo/headers`, { headers: { cookie: '__Host-tokengate=session-cookie-canary' } }));
    expect(answer.text).not.toContain('canary');
    expect((answer.body as { headers: Record<string, string> }).headers['cookie']).toBe('(38 characters)');
  });
});

describe('state survives a new sandbox object over the same storage (an evicted Durable Object)', () => {
  it('keeps tokens, revocations, armed faults, codes, users and counters', async () => {
    const storage = memoryStorage();
    const first = createSandbox({ now: () => T0, sleep: async () => {}, storage });
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: C.instabox.clientId, client_secret: C.instabox.clientSecret });
    const issued = ((await (await first.fetch(post('/instabox/v1/token', form, { 'content-type': 'application/x-www-form-urlencoded' }))).json()) as { token: string }).token;
    expect((await first.fetch(post('/_faults', JSON.stringify({ vendor: 'shopware', fault: '5xx', count: 3 }), { 'content-type': 'application/json' }))).status).toBe(204);
    expect((await first.fetch(post('/_faults', JSON.stringify({ vendor: 'eshopbox', fault: 'revoke' }), { 'content-type': 'application/json' }))).status).toBe(204);

    const second = createSandbox({ now: () => T0, sleep: async () => {}, storage });
    expect((await second.fetch(get('/instabox/v2/orders', issued))).status).toBe(200);
    expect(second.stats().tokenRequests.instabox).toBe(1);
    // The armed fault: three 5xx, then normal answers.
    const shopware = (): Request => post('/shopware/api/oauth/token', JSON.stringify({ grant_type: 'client_credentials', client_id: C.shopware.clientId, client_secret: C.shopware.clientSecret }), { 'content-type': 'application/json' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await second.fetch(shopware())).status);
    expect(statuses).toEqual([503, 503, 503, 200]);
    // The revoked Eshopbox app refresh token stays revoked (a fresh state would have it again).
    const refresh = new URLSearchParams({ grant_type: 'refresh_token', client_id: C.eshopbox.clientId, client_secret: C.eshopbox.clientSecret, refresh_token: C.eshopbox.refreshToken });
    expect((await second.fetch(post('/eshopbox/oauth/token', refresh, { 'content-type': 'application/x-www-form-urlencoded' }))).status).not.toBe(200);

    // Reset means reset: the app refresh token works again.
    expect((await second.fetch(post('/_reset', '{}', { 'content-type': 'application/json' }))).status).toBe(204);
    const third = createSandbox({ now: () => T0, sleep: async () => {}, storage });
    expect((await third.fetch(post('/eshopbox/oauth/token', refresh, { 'content-type': 'application/x-www-form-urlencoded' }))).status).toBe(200);
    expect(third.stats().tokenRequests.instabox).toBe(0);
  });
});

describe('stats and reset', () => {
  it('counts token requests, refused polls and API calls per vendor; GET /_stats matches stats()', async () => {
    await send(instaboxToken());
    await send(instaboxToken());
    const token = (await send(eshopboxToken())).body.access_token;
    await send(get('/eshopbox/api/v1/orders', token));
    await send(get('/eshopbox/api/v1/orders'));
    await send(instellixToken());
    await send(instellixToken());
    const stats = await send(get('/_stats'));
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      tokenRequests: { instabox: 2, eshopbox: 1, instellix: 2, shopware: 0, instacart: 0 },
      refusedPolls: 1,
      apiCalls: { instabox: 0, eshopbox: 2, instellix: 0, shopware: 0, instacart: 0 },
    });
    expect(sandbox.stats()).toEqual(stats.body);
  });

  it('stats() is a copy', async () => {
    sandbox.stats().tokenRequests.instabox = 99;
    expect(sandbox.stats().tokenRequests.instabox).toBe(0);
  });

  it('POST /_reset forgets tokens, users, faults, stats and the 5 s window', async () => {
    const token = (await send(instaboxToken())).body.token;
    await send(instellixToken());
    const app = await appToken();
    const userId = await createUser(app);
    await fault({ vendor: 'shopware', fault: '5xx' });
    await fault({ vendor: 'eshopbox', fault: 'revoke' });

    expect((await send(post('/_reset', '{}', { 'content-type': 'application/json' }))).status).toBe(204);
    expect(sandbox.stats()).toEqual({
      tokenRequests: { instabox: 0, eshopbox: 0, instellix: 0, shopware: 0, instacart: 0 },
      refusedPolls: 0,
      apiCalls: { instabox: 0, eshopbox: 0, instellix: 0, shopware: 0, instacart: 0 },
    });
    expectBearerChallenge(await send(get('/instabox/v2/orders', token)));
    expect((await send(instellixToken())).status).toBe(200);
    expect((await send(shopwareToken())).status).toBe(200);
    expect((await send(eshopboxToken())).status).toBe(200);
    const freshApp = await appToken();
    const answer = await authorize(freshApp, userId, { redirect_uri: REDIRECT, scope: 'x', code_challenge_method: 'S256', code_challenge: await s256(VERIFIER) });
    expect(answer.body.error.meta.key).toBe('user_id');
    expect((await send(get('/_reset'))).status).toBe(405);
  });
});

describe('credentials', () => {
  it('every demo secret carries the sandbox-secret canary', () => {
    for (const secret of [
      C.instabox.clientSecret,
      C.eshopbox.clientSecret,
      C.eshopbox.refreshToken,
      C.instellix.clientSecret,
      C.shopware.clientSecret,
      C.shopware.password,
      C.instacart.clientSecret,
    ]) {
      expect(secret).toContain('sandbox-secret');
    }
    expect(C.instellix.realm).toBe('acme');
    expect(C.shopware.username).toBe('admin');
  });

  it('options.credentials replaces a vendor’s demo credentials', async () => {
    const custom = make({ credentials: { instabox: { clientId: 'mine', clientSecret: 'my-own-value' } } });
    const mine = await send(postForm('/instabox/v1/token', { grant_type: 'client_credentials', client_id: 'mine', client_secret: 'my-own-value' }), custom);
    expect(mine.status).toBe(200);
    expect((await send(instaboxToken(), custom)).status).toBe(401);
    expect((await send(eshopboxToken(), custom)).status).toBe(200);
  });

  it('tokens are never derived from the secrets', async () => {
    const tokens = [
      (await send(instaboxToken())).body.token,
      (await send(eshopboxToken())).body.access_token,
      (await send(instellixToken())).body.access_token,
      (await send(shopwareToken())).body.access_token,
      (await send(instacartToken())).body.access_token,
    ].join(' ');
    const decoded = tokens
      .split(/[ .]/)
      .map((part) => {
        try {
          return atob(part.replace(/-/g, '+').replace(/_/g, '/'));
        } catch {
          return '';
        }
      })
      .join(' ');
    for (const haystack of [tokens, decoded]) {
      expect(haystack).not.toContain('sandbox-secret');
      expect(haystack).not.toContain(btoa(C.instabox.clientSecret).slice(0, 12));
    }
  });
});

describe('canary scan (runs last)', () => {
  it('no answer body or header in this whole file contained a sandbox-secret', () => {
    expect(seen.length).toBeGreaterThan(200);
    const everything = seen.join('\n');
    expect(everything).not.toContain('sandbox-secret');
    expect(everything).not.toContain(C.shopware.password);
    expect(everything).not.toContain(VERIFIER);
  });
});
