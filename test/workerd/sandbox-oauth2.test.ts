/**
 * The sandbox's generic OAuth 2.0 authorization server (sandbox/src/oauth2.ts), inside workerd: first
 * with raw requests (the wire format RFC 6749 / 7636 / 8414 / 9207 / 6750 ask for), then end to end
 * through tokengate's public API — discover → startAuthorization → the consent form → completeAuthorization
 * → refreshTokenGrant — with the sandbox as the only "network".
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { completeAuthorization, computeChallenge, ErrorCode, introspectToken, isOAuthError, isTokenGateError, refreshTokenGrant, revokeToken, startAuthorization, type FetchLike, type Profile } from 'tokengate';
import { discover, fetchMetadata, oauth2 } from 'tokengate/profiles';
import { createSandbox, SANDBOX_CREDENTIALS, type Sandbox, type SandboxOptions } from '../../sandbox/src/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Body;
}

const C = SANDBOX_CREDENTIALS.oauth2;
/** The issuer follows the origin it is reached at: INVALID stands for any, LOCAL is `npm start`'s sandbox. */
const INVALID = 'https://sandbox.tokengate.invalid';
const LOCAL = 'http://127.0.0.1:8788';
/** The demo's origin, where the registered redirect URIs are. */
const DEMO = 'http://127.0.0.1:8787';
const ISSUER = `${INVALID}/oauth2`;
const BFF_REDIRECT = `${DEMO}/link/oauth2/callback`;
const SPA_REDIRECT = `${DEMO}/callback.html`;
const VERIFIER = 'sandbox-oauth2-test-verifier-0123456789abcdefghijklmnopqrstuvwxyz';
const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);

/** Every answer body and header seen in this file, for the final canary scan. */
const seen: string[] = [];
let clock = T0;
let sandbox: Sandbox;

function make(options: SandboxOptions = {}): Sandbox {
  return createSandbox({ now: () => clock, sleep: async () => {}, ...options });
}

beforeEach(() => {
  clock = T0;
  sandbox = make();
});

/** tokengate's transport, pointed at the sandbox; records what came back for the canary scan. */
const sandboxFetch =
  (target: () => Sandbox = () => sandbox): FetchLike =>
  async (input, init) => {
    const response = await target().fetch(new Request(input, init));
    const copy = response.clone();
    seen.push(await copy.text(), JSON.stringify([...copy.headers]));
    return response;
  };

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

const url = (path: string, origin = INVALID): string => `${origin}/oauth2${path}`;

function authorizeUrl(params: Record<string, string>, origin = INVALID): string {
  return `${url('/authorize', origin)}?${new URLSearchParams(params)}`;
}

async function validParams(overrides: Record<string, string | null> = {}): Promise<Record<string, string>> {
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: C.clientId,
    redirect_uri: BFF_REDIRECT,
    scope: 'orders:read',
    state: 'state-123',
    code_challenge: await computeChallenge(VERIFIER),
    code_challenge_method: 'S256',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== null));
}

/** The consent form's POST: the hidden fields plus `decision`, as the Allow / Deny buttons send it. */
function consent(params: Record<string, string>, decision: string, origin = INVALID, headers: Record<string, string> = {}): Request {
  return new Request(url('/authorize', origin), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ ...params, decision }),
  });
}

/** Reads the consent page's form: its action and hidden fields. */
function readForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  expect(action).toBeDefined();
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1]!] = match[2]!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  }
  return { action: action!, fields };
}

function location(answer: Answer): URL {
  expect(answer.status).toBe(303);
  const value = answer.headers.get('location');
  expect(value).not.toBeNull();
  return new URL(value!);
}

async function codeFor(overrides: Record<string, string | null> = {}): Promise<string> {
  const answer = await send(consent(await validParams(overrides), 'allow'));
  const code = location(answer).searchParams.get('code');
  expect(code).toBeTruthy();
  return code!;
}

function basic(id: string, secret: string): string {
  const form = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${btoa(`${form(id)}:${form(secret)}`)}`;
}

function tokenRequest(params: Record<string, string>, headers: Record<string, string> = {}): Request {
  return new Request(url('/token'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
}

const confidential = { authorization: basic(C.clientId, C.clientSecret) };

function exchange(code: string, extra: Record<string, string> = {}, headers: Record<string, string> = confidential): Request {
  return tokenRequest({ grant_type: 'authorization_code', code, code_verifier: VERIFIER, redirect_uri: BFF_REDIRECT, ...extra }, headers);
}

function refresh(refreshToken: string, extra: Record<string, string> = {}): Request {
  return tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, confidential);
}

function me(token?: string): Request {
  return new Request(url('/api/me'), token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

function expectOAuthError(answer: Answer, status: number, error: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(Object.keys(answer.body).sort()).toEqual(['error', 'error_description']);
  expect(answer.body.error).toBe(error);
}

// ======================================================================================================

describe('metadata (RFC 8414)', () => {
  it.each([
    [`${LOCAL}/oauth2/.well-known/oauth-authorization-server`, `${LOCAL}/oauth2`],
    [`${INVALID}/oauth2/.well-known/oauth-authorization-server`, ISSUER],
    [`${INVALID}/oauth2/.well-known/oauth-authorization-server`, ISSUER],
    [`${INVALID}/.well-known/oauth-authorization-server/oauth2`, ISSUER],
  ])('GET %s names the issuer of the origin it was asked at', async (address, issuer) => {
    const answer = await send(new Request(address));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint: `${issuer}/revoke`,
      introspection_endpoint: `${issuer}/introspect`,
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('is what tokengate’s fetchMetadata and discover find from the issuer alone', async () => {
    const metadata = await fetchMetadata(ISSUER, { fetch: sandboxFetch() });
    expect(metadata.issuer).toBe(ISSUER);
    const profile = await discover(ISSUER, { clientId: C.clientId, clientSecret: C.clientSecret, fetch: sandboxFetch() });
    expect(profile).toMatchObject({ issuer: ISSUER, requireIss: true, tokenUrl: `${ISSUER}/token`, authorizeUrl: `${ISSUER}/authorize`, revocationUrl: `${ISSUER}/revoke`, introspectionUrl: `${ISSUER}/introspect` });
  });
});

describe('authorization endpoint', () => {
  it('shows an accessible consent page: heading, the scopes, Allow and Deny in a form back to itself', async () => {
    const answer = await send(new Request(authorizeUrl(await validParams({ scope: 'orders:read profile' }), LOCAL)));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(answer.headers.get('content-security-policy')).toContain(`form-action 'self' ${DEMO}`);
    expect(answer.text).toContain('<html lang="en">');
    expect(answer.text).toContain('<h1 id="consent-title">Sandbox Shop wants to read your orders</h1>');
    expect(answer.text).toContain('<button type="submit" name="decision" value="allow">Allow</button>');
    expect(answer.text).toContain('<button type="submit" name="decision" value="deny">Deny</button>');
    expect(answer.text).toContain('Read your orders');
    const form = readForm(answer.text);
    expect(form.action).toBe('/oauth2/authorize');
    expect(form.fields).toEqual(await validParams({ scope: 'orders:read profile' }));
  });

  it('escapes what it reflects', async () => {
    const answer = await send(new Request(authorizeUrl(await validParams({ state: '"><script>alert(1)</script>' }))));
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain('<script>');
    expect(readForm(answer.text).fields['state']).toBe('"><script>alert(1)</script>');
  });

  it('Allow → 303 to the redirect URI with code, state and iss; Deny → access_denied with state and iss', async () => {
    const params = await validParams();
    const allowed = location(await send(consent(params, 'allow', LOCAL)));
    expect(`${allowed.origin}${allowed.pathname}`).toBe(BFF_REDIRECT);
    expect([...allowed.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
    expect(allowed.searchParams.get('state')).toBe('state-123');
    expect(allowed.searchParams.get('iss')).toBe(`${LOCAL}/oauth2`);

    const denied = location(await send(consent(params, 'deny', LOCAL)));
    expect(`${denied.origin}${denied.pathname}`).toBe(BFF_REDIRECT);
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('error_description')).toBeTruthy();
    expect(denied.searchParams.get('state')).toBe('state-123');
    expect(denied.searchParams.get('iss')).toBe(`${LOCAL}/oauth2`);
    expect(denied.searchParams.has('code')).toBe(false);
  });

  it.each([
    ['an unknown client', { client_id: 'someone-else' }],
    ['no client', { client_id: null }],
    ['an unregistered redirect_uri', { redirect_uri: 'https://evil.example/callback' }],
    ['a redirect_uri that only starts like a registered one', { redirect_uri: `${BFF_REDIRECT}/../../evil` }],
    ['a registered redirect_uri plus a query', { redirect_uri: `${BFF_REDIRECT}?next=x` }],
    ['no redirect_uri', { redirect_uri: null }],
  ])('%s → an HTML error page, never a redirect (GET and POST)', async (_name, overrides) => {
    const params = await validParams(overrides);
    for (const request of [new Request(authorizeUrl(params)), consent(params, 'allow')]) {
      const answer = await send(request);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
      expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(answer.text).not.toContain('evil.example');
    }
    expect(sandbox.stats().tokenRequests.oauth2 ?? 0).toBe(0);
  });

  it('on loopback http only the port may differ from a registered redirect_uri (RFC 8252 §7.3), for npm start on another PORT', async () => {
    for (const redirectUri of ['http://127.0.0.1:9999/link/oauth2/callback', 'http://localhost:3000/callback.html']) {
      const target = location(await send(consent(await validParams({ redirect_uri: redirectUri }), 'allow')));
      expect(target.href.startsWith(`${redirectUri}?`)).toBe(true);
    }
    for (const redirectUri of ['http://127.0.0.1:9999/link/oauth2/callback/', 'http://127.0.0.2:8787/callback.html', 'https://127.0.0.1:8787/callback.html', 'http://user@127.0.0.1:9999/callback.html', 'http://127.0.0.1:9999/callback.html?x=1']) {
      const answer = await send(new Request(authorizeUrl(await validParams({ redirect_uri: redirectUri }))));
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
    }
  });

  it('a repeated client_id or redirect_uri is an error page too', async () => {
    const query = `${new URLSearchParams(await validParams())}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`;
    const answer = await send(new Request(`${url('/authorize')}?${query}`));
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
  });

  it.each([
    ['no PKCE', 'invalid_request', { code_challenge: null, code_challenge_method: null }],
    ['plain PKCE', 'invalid_request', { code_challenge_method: 'plain', code_challenge: VERIFIER }],
    ['a challenge without its method', 'invalid_request', { code_challenge_method: null }],
    ['a malformed challenge', 'invalid_request', { code_challenge: 'short' }],
    ['no response_type', 'invalid_request', { response_type: null }],
    ['response_type=token', 'unsupported_response_type', { response_type: 'token' }],
    ['an unknown scope', 'invalid_scope', { scope: 'orders:read admin' }],
  ])('%s → 303 back with error=%s, state and iss (GET and POST)', async (_name, error, overrides) => {
    const params = await validParams(overrides);
    for (const request of [new Request(authorizeUrl(params)), consent(params, 'allow')]) {
      const target = location(await send(request));
      expect(`${target.origin}${target.pathname}`).toBe(BFF_REDIRECT);
      expect(target.searchParams.get('error')).toBe(error);
      expect(target.searchParams.get('state')).toBe('state-123');
      expect(target.searchParams.get('iss')).toBe(ISSUER);
      expect(target.searchParams.has('code')).toBe(false);
    }
  });

  it('a repeated parameter is invalid_request', async () => {
    const query = `${new URLSearchParams(await validParams())}&scope=profile`;
    const target = location(await send(new Request(`${url('/authorize')}?${query}`)));
    expect(target.searchParams.get('error')).toBe('invalid_request');
  });

  it('a decision that is neither allow nor deny is invalid_request; a cross-site POST is refused outright', async () => {
    const params = await validParams();
    expect(location(await send(consent(params, 'maybe'))).searchParams.get('error')).toBe('invalid_request');
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site', origin: 'null' }, { 'sec-fetch-site': 'same-site' }]) {
      const forged = await send(consent(params, 'allow', LOCAL, headers));
      expect(forged.status).toBe(403);
      expect(forged.headers.get('location')).toBeNull();
    }
    // Under a no-referrer policy a browser's same-origin form POST says `Origin: null`.
    expect(location(await send(consent(params, 'allow', LOCAL, { origin: 'null', 'sec-fetch-site': 'same-origin' }))).searchParams.get('code')).toBeTruthy();
    const sameOrigin = await send(consent(params, 'allow', LOCAL, { origin: LOCAL }));
    expect(location(sameOrigin).searchParams.get('code')).toBeTruthy();
  });

  it('takes only GET and POST', async () => {
    const answer = await send(new Request(url('/authorize'), { method: 'PUT' }));
    expect(answer.status).toBe(405);
  });
});

describe('token endpoint (RFC 6749 §4.1.3, §6)', () => {
  it('exchanges a code with client_secret_basic: {access_token, token_type, expires_in, refresh_token, scope}', async () => {
    const answer = await send(exchange(await codeFor()));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(answer.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'orders:read' });
    const profile = await send(me(answer.body.access_token));
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ sub: expect.any(String), name: 'Sandbox Shopper' });
    expect(profile.body.orders.length).toBeGreaterThan(0);
    expect(sandbox.stats().tokenRequests.oauth2).toBe(1);
  });

  it('takes client_secret_post for the confidential client and none for the public one', async () => {
    const post = await send(exchange(await codeFor(), { client_id: C.clientId, client_secret: C.clientSecret }, {}));
    expect(post.status).toBe(200);
    const spa = await send(exchange(await codeFor({ client_id: C.publicClientId, redirect_uri: SPA_REDIRECT }), { client_id: C.publicClientId, redirect_uri: SPA_REDIRECT }, {}));
    expect(spa.status).toBe(200);
    expect(spa.body.refresh_token).toBeTruthy();
  });

  it('decodes Basic as RFC 6749 §2.3.1 says (form-encoded id and secret), and refuses the unencoded form', async () => {
    const secret = 'a+b/c=d:é & sandbox-secret';
    const custom = make({ credentials: { oauth2: { ...C, clientSecret: secret } } });
    const code = location(await send(consent(await validParams(), 'allow'), custom)).searchParams.get('code')!;
    const plain = `Basic ${btoa(unescape(encodeURIComponent(`${C.clientId}:${secret}`)))}`;
    const refused = await send(exchange(code, {}, { authorization: plain }), custom);
    expectOAuthError(refused, 401, 'invalid_client');
    const code2 = location(await send(consent(await validParams(), 'allow'), custom)).searchParams.get('code')!;
    expect((await send(exchange(code2, {}, { authorization: basic(C.clientId, secret) }), custom)).status).toBe(200);
  });

  it.each([
    ['a wrong Basic secret', {}, { authorization: basic(C.clientId, 'wrong') }, 401, 'invalid_client'],
    ['Basic for an unknown client', {}, { authorization: basic('nobody', C.clientSecret) }, 401, 'invalid_client'],
    ['Basic for the public client', {}, { authorization: basic(C.publicClientId, 'anything') }, 401, 'invalid_client'],
    ['a malformed Authorization header', {}, { authorization: 'Bearer abc' }, 401, 'invalid_client'],
    ['a wrong client_secret_post secret', { client_id: C.clientId, client_secret: 'wrong' }, {}, 401, 'invalid_client'],
    ['the confidential client with no secret', { client_id: C.clientId }, {}, 401, 'invalid_client'],
    ['the public client with a secret', { client_id: C.publicClientId, client_secret: 'made-up' }, {}, 401, 'invalid_client'],
    ['no client at all', {}, {}, 401, 'invalid_client'],
    ['two methods at once', { client_secret: C.clientSecret }, confidential, 400, 'invalid_request'],
  ])('refuses %s', async (_name, extra, headers, status, error) => {
    const answer = await send(tokenRequest({ grant_type: 'authorization_code', code: await codeFor(), code_verifier: VERIFIER, redirect_uri: BFF_REDIRECT, ...extra }, headers));
    expectOAuthError(answer, status, error);
    if ('authorization' in headers) expect(answer.headers.get('www-authenticate') ?? '').toMatch(status === 401 ? /^Basic / : /.*/);
  });

  it('refuses a reused code with invalid_grant and revokes the tokens issued from it', async () => {
    const code = await codeFor();
    const first = await send(exchange(code));
    expect(first.status).toBe(200);
    expectOAuthError(await send(exchange(code)), 400, 'invalid_grant');
    expect((await send(me(first.body.access_token))).status).toBe(401);
    expectOAuthError(await send(refresh(first.body.refresh_token)), 400, 'invalid_grant');
  });

  it('refuses a wrong verifier, and the code is spent after that attempt', async () => {
    const code = await codeFor();
    expectOAuthError(await send(exchange(code, { code_verifier: `${VERIFIER}-other` })), 400, 'invalid_grant');
    expectOAuthError(await send(exchange(code)), 400, 'invalid_grant');
  });

  it('refuses another redirect_uri, another client, an expired code (60 s) and missing parameters', async () => {
    expectOAuthError(await send(exchange(await codeFor(), { redirect_uri: SPA_REDIRECT })), 400, 'invalid_grant');
    const spaCode = await codeFor({ client_id: C.publicClientId });
    expectOAuthError(await send(exchange(spaCode)), 400, 'invalid_grant');
    const late = await codeFor();
    clock += 60_000;
    expectOAuthError(await send(exchange(late)), 400, 'invalid_grant');
    clock = T0;
    const almost = await codeFor();
    clock += 59_999;
    expect((await send(exchange(almost))).status).toBe(200);
    for (const missing of ['code', 'code_verifier', 'redirect_uri']) {
      const params: Record<string, string> = { grant_type: 'authorization_code', code: 'x', code_verifier: VERIFIER, redirect_uri: BFF_REDIRECT };
      delete params[missing];
      expectOAuthError(await send(tokenRequest(params, confidential)), 400, 'invalid_request');
    }
  });

  it('rotates refresh tokens; a rotated-away one is invalid_grant and, replayed, revokes the family', async () => {
    const issued = (await send(exchange(await codeFor()))).body;
    const rotated = await send(refresh(issued.refresh_token));
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(issued.refresh_token);
    expect(rotated.body.access_token).not.toBe(issued.access_token);
    expect(rotated.body.scope).toBe('orders:read');
    expect((await send(me(rotated.body.access_token))).status).toBe(200);

    expectOAuthError(await send(refresh(issued.refresh_token)), 400, 'invalid_grant');
    // The replay means two parties held it: everything from that code is dead now.
    expectOAuthError(await send(refresh(rotated.body.refresh_token)), 400, 'invalid_grant');
    expect((await send(me(rotated.body.access_token))).status).toBe(401);
  });

  it('refresh: only the client it was issued to, a narrower scope at most', async () => {
    const issued = (await send(exchange(await codeFor({ scope: 'orders:read profile' })))).body;
    const spa = await send(tokenRequest({ grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: C.publicClientId }));
    expectOAuthError(spa, 400, 'invalid_grant');
    expectOAuthError(await send(refresh(issued.refresh_token, { scope: 'orders:read admin' })), 400, 'invalid_scope');
    const narrower = await send(refresh(issued.refresh_token, { scope: 'profile' }));
    expect(narrower.status).toBe(200);
    expect(narrower.body.scope).toBe('profile');
    const profileOnly = await send(me(narrower.body.access_token));
    expect(profileOnly.status).toBe(200);
    expect(profileOnly.body.orders).toBeUndefined();
  });

  it('answers other grants, no grant, and bodies that are not forms with RFC 6749 errors', async () => {
    expectOAuthError(await send(tokenRequest({ grant_type: 'client_credentials' }, confidential)), 400, 'unsupported_grant_type');
    expectOAuthError(await send(tokenRequest({}, confidential)), 400, 'invalid_request');
    const json = new Request(url('/token'), { method: 'POST', headers: { 'content-type': 'application/json', ...confidential }, body: '{"grant_type":"refresh_token"}' });
    expectOAuthError(await send(json), 400, 'invalid_request');
    const twice = new Request(url('/token'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...confidential }, body: 'grant_type=refresh_token&refresh_token=a&refresh_token=b' });
    expectOAuthError(await send(twice), 400, 'invalid_request');
    expect((await send(new Request(url('/token')))).status).toBe(405);
  });
});

describe('protected resource (RFC 6750)', () => {
  it('answers no token with a bare challenge and an unknown or expired one with invalid_token', async () => {
    const none = await send(me());
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="oauth2"');
    expect((await send(me('not-a-token'))).headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const { access_token } = (await send(exchange(await codeFor()))).body;
    clock += 3_600_000;
    expect((await send(me(access_token))).headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });
});

describe('faults, stats and reset', () => {
  it('counts under stats().tokenRequests.oauth2 and apiCalls.oauth2, listed once used', async () => {
    expect(sandbox.stats().tokenRequests.oauth2).toBeUndefined();
    await send(exchange(await codeFor()));
    expect(sandbox.stats().tokenRequests.oauth2).toBe(1);
    expect(sandbox.stats().apiCalls.oauth2).toBe(1); // the consent POST
    expect((await send(new Request(`${INVALID}/_stats`))).body.tokenRequests.oauth2).toBe(1);
  });

  it('takes the vendors’ faults: 5xx / 429 / html answer the next token request; revoke kills tokens and codes', async () => {
    const fault = (spec: Record<string, unknown>): Request =>
      new Request(`${INVALID}/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor: 'oauth2', ...spec }) });
    expect((await send(fault({ fault: '429', retryAfter: 7 }))).status).toBe(204);
    const limited = await send(exchange('whatever'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await send(fault({ fault: '5xx' }))).status).toBe(204);
    expect((await send(exchange('whatever'))).status).toBe(503);

    const issued = (await send(exchange(await codeFor()))).body;
    const pending = await codeFor();
    expect((await send(fault({ fault: 'revoke' }))).status).toBe(204);
    expect((await send(me(issued.access_token))).status).toBe(401);
    expectOAuthError(await send(refresh(issued.refresh_token)), 400, 'invalid_grant');
    expectOAuthError(await send(exchange(pending)), 400, 'invalid_grant');
    expect((await send(fault({ fault: 'meltdown' }))).status).toBe(400);
  });

  it('POST /_reset forgets codes, tokens and counts', async () => {
    const issued = (await send(exchange(await codeFor()))).body;
    const pending = await codeFor();
    expect((await send(new Request(`${INVALID}/_reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }))).status).toBe(204);
    expect(sandbox.stats().tokenRequests.oauth2).toBeUndefined();
    expect((await send(me(issued.access_token))).status).toBe(401);
    expectOAuthError(await send(exchange(pending)), 400, 'invalid_grant');
  });
});

// ---- end to end through tokengate's public API --------------------------------------------------------

/** What a browser does on the consent page: load it, read the form, press a button. */
async function pressOnConsentPage(authorizationUrl: string, decision: 'allow' | 'deny'): Promise<string> {
  const page = await send(new Request(authorizationUrl));
  expect(page.status).toBe(200);
  const { action, fields } = readForm(page.text);
  const answer = await send(
    new Request(new URL(action, authorizationUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(authorizationUrl).origin },
      body: new URLSearchParams({ ...fields, decision }),
    }),
  );
  return location(answer).href;
}

async function discovered(options: { clientId: string; clientSecret?: string; auth?: 'client_secret_basic' | 'client_secret_post' | 'none' }): Promise<Profile> {
  return discover(ISSUER, { ...options, scope: 'orders:read profile', fetch: sandboxFetch() });
}

describe('tokengate end to end: discover → startAuthorization → consent → completeAuthorization → refresh', () => {
  it.each([
    ['client_secret_basic', { clientId: C.clientId, clientSecret: C.clientSecret }, BFF_REDIRECT],
    ['client_secret_post', { clientId: C.clientId, clientSecret: C.clientSecret, auth: 'client_secret_post' as const }, BFF_REDIRECT],
    ['none (public client)', { clientId: C.publicClientId }, SPA_REDIRECT],
  ])('links with %s, calls /api/me, and rotates the refresh token', async (_name, client, redirectUri) => {
    const profile = await discovered(client);
    const tx = await startAuthorization(profile, { redirectUri });
    expect(new URL(tx.url).searchParams.get('code_challenge_method')).toBe('S256');
    const callback = await pressOnConsentPage(tx.url, 'allow');
    const tokens = await completeAuthorization(profile, tx, callback);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: ['orders:read', 'profile'], expiresAt: expect.any(Number) });
    expect(tokens.refreshToken).toBeTruthy();

    const shopper = await send(me(tokens.accessToken));
    expect(shopper.body).toMatchObject({ name: 'Sandbox Shopper', orders: expect.any(Array) });

    const renewed = await refreshTokenGrant(profile, tokens.refreshToken!);
    expect(renewed.refreshToken).toBeTruthy();
    expect(renewed.refreshToken).not.toBe(tokens.refreshToken);
    expect((await send(me(renewed.accessToken))).status).toBe(200);
    const stale = await refreshTokenGrant(profile, tokens.refreshToken!).catch((error: unknown) => error);
    expect(isOAuthError(stale) && stale.code).toBe('invalid_grant');
    expect(sandbox.stats().tokenRequests.oauth2).toBe(3);
  });

  it('Deny → completeAuthorization rejects with access_denied, and no token request is made', async () => {
    const profile = await discovered({ clientId: C.clientId, clientSecret: C.clientSecret });
    const tx = await startAuthorization(profile, { redirectUri: BFF_REDIRECT });
    const callback = await pressOnConsentPage(tx.url, 'deny');
    const error = await completeAuthorization(profile, tx, callback).catch((e: unknown) => e);
    expect(isOAuthError(error) && error.code).toBe('access_denied');
    expect(sandbox.stats().tokenRequests.oauth2 ?? 0).toBe(0);
  });

  it('a callback from another transaction (state) or another issuer (iss) is refused before any token request', async () => {
    const profile = await discovered({ clientId: C.clientId, clientSecret: C.clientSecret });
    const tx = await startAuthorization(profile, { redirectUri: BFF_REDIRECT });
    const other = await startAuthorization(profile, { redirectUri: BFF_REDIRECT });
    const callback = await pressOnConsentPage(other.url, 'allow');
    const mismatch = await completeAuthorization(profile, tx, callback).catch((e: unknown) => e);
    expect(isTokenGateError(mismatch) && mismatch.code).toBe(ErrorCode.STATE_MISMATCH);

    // The same server reached under another origin is another issuer: the RFC 9207 mix-up check fires.
    const elsewhere = tx.url.replace(INVALID, LOCAL);
    const mixUp = await completeAuthorization(profile, tx, await pressOnConsentPage(elsewhere, 'allow')).catch((e: unknown) => e);
    expect(isTokenGateError(mixUp) && mixUp.code).toBe(ErrorCode.ISSUER_MISMATCH);

    // A profile that names no issuer cannot check the iss this server always sends: a missing configuration.
    const static_ = oauth2({ clientId: C.clientId, clientSecret: C.clientSecret, tokenUrl: `${ISSUER}/token`, authorizeUrl: `${ISSUER}/authorize`, fetch: sandboxFetch() });
    const tx2 = await startAuthorization(static_, { redirectUri: BFF_REDIRECT });
    const noIssuer = await completeAuthorization(static_, tx2, await pressOnConsentPage(tx2.url, 'allow')).catch((e: unknown) => e);
    expect(isTokenGateError(noIssuer) && noIssuer.code).toBe(ErrorCode.ISSUER_UNKNOWN);
    expect(sandbox.stats().tokenRequests.oauth2 ?? 0).toBe(0);
  });

  it('a static oauth2 profile with the issuer and requireIss links the same way', async () => {
    const profile = oauth2({
      clientId: C.clientId,
      clientSecret: C.clientSecret,
      issuer: `${LOCAL}/oauth2`,
      requireIss: true,
      authorizeUrl: `${LOCAL}/oauth2/authorize`,
      tokenUrl: `${ISSUER}/token`,
      fetch: sandboxFetch(),
    });
    const tx = await startAuthorization(profile, { redirectUri: BFF_REDIRECT, scope: ['orders:read'] });
    const tokens = await completeAuthorization(profile, tx, await pressOnConsentPage(tx.url, 'allow'));
    expect(tokens.scope).toEqual(['orders:read']);
  });
});

describe('revocation (RFC 7009) and introspection (RFC 7662), through tokengate', () => {
  async function linked(client: Parameters<typeof discovered>[0], redirectUri: string) {
    const profile = await discovered(client);
    const tx = await startAuthorization(profile, { redirectUri });
    return { profile, tokens: await completeAuthorization(profile, tx, await pressOnConsentPage(tx.url, 'allow')) };
  }

  it('revoking the refresh token makes it and its access token inactive, and /api/me refuses the access token', async () => {
    const { profile, tokens } = await linked({ clientId: C.clientId, clientSecret: C.clientSecret }, BFF_REDIRECT);
    await expect(introspectToken(profile, tokens.refreshToken!, { hint: 'refresh_token' })).resolves.toMatchObject({ active: true, client_id: C.clientId, token_type: 'refresh_token' });
    await expect(introspectToken(profile, tokens.accessToken)).resolves.toMatchObject({ active: true, scope: 'orders:read profile', exp: expect.any(Number) });
    await revokeToken(profile, tokens.refreshToken!, { hint: 'refresh_token' });
    await expect(introspectToken(profile, tokens.refreshToken!)).resolves.toEqual({ active: false });
    await expect(introspectToken(profile, tokens.accessToken)).resolves.toEqual({ active: false });
    expect((await send(me(tokens.accessToken))).status).toBe(401);
    await expect(refreshTokenGrant(profile, tokens.refreshToken!)).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('revoking an access token leaves the refresh token; an unknown token is still 200 (§2.2)', async () => {
    const { profile, tokens } = await linked({ clientId: C.clientId, clientSecret: C.clientSecret, auth: 'client_secret_post' }, BFF_REDIRECT);
    await revokeToken(profile, tokens.accessToken, { hint: 'access_token' });
    await expect(introspectToken(profile, tokens.accessToken)).resolves.toEqual({ active: false });
    await expect(introspectToken(profile, tokens.refreshToken!)).resolves.toMatchObject({ active: true });
    await expect(revokeToken(profile, 'never-issued')).resolves.toBeUndefined();
  });

  it('a public client revokes its own tokens but cannot introspect; another client cannot touch them', async () => {
    const { profile, tokens } = await linked({ clientId: C.publicClientId }, SPA_REDIRECT);
    // The metadata lists no `none` for introspection, so the core refuses before sending anything...
    await expect(introspectToken(profile, tokens.accessToken)).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    // ...and the server, asked all the same by a public client, refuses it.
    const asked = await send(new Request(url('/introspect'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.accessToken, client_id: C.publicClientId }) }));
    expectOAuthError(asked, 401, 'invalid_client');
    const confidential = await discovered({ clientId: C.clientId, clientSecret: C.clientSecret });
    await expect(introspectToken(confidential, tokens.accessToken)).resolves.toEqual({ active: false });
    await revokeToken(confidential, tokens.refreshToken!);
    expect((await send(me(tokens.accessToken))).status).toBe(200);
    await revokeToken(profile, tokens.refreshToken!);
    expect((await send(me(tokens.accessToken))).status).toBe(401);
  });

  it('wrong credentials and a missing token are RFC 6749 errors', async () => {
    const revoke = (body: Record<string, string>, headers: Record<string, string>) =>
      send(new Request(url('/revoke'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) }));
    expectOAuthError(await revoke({ token: 'x' }, { authorization: basic(C.clientId, 'wrong') }), 401, 'invalid_client');
    expectOAuthError(await revoke({}, confidential), 400, 'invalid_request');
  });
});

describe('canary scan (runs last)', () => {
  it('no answer body or header in this whole file carried a client secret', () => {
    expect(C.clientSecret).toContain('sandbox-secret');
    const all = seen.join('\n');
    expect(all).not.toContain('sandbox-secret');
    expect(all).not.toContain(VERIFIER);
  });
});
