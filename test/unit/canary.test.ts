import { describe, expect, it } from 'vitest';
import { authorizationCodeGrant, completeAuthorization, passwordGrant, refreshTokenGrant, startAuthorization, type FetchLike } from '../../src/index.js';
import { oauth2 } from '../../src/profiles/index.js';
import { mockFetch, type SeenRequest } from '../helpers/mock-fetch.js';

// Canary credentials: if any of these shows up in an error, a secret leaked.
const SECRET = 'CANARY-client-secret-5b1d9e';
const CODE = 'CANARY-auth-code-77aa01';
const VERIFIER = `CANARY-verifier-${'q'.repeat(30)}`;
const REFRESH = 'CANARY-refresh-token-c3f2';
const PASSWORD = 'CANARY-password-9e0d';
const CANARIES = [SECRET, CODE, VERIFIER, REFRESH, PASSWORD];

/** Everything a log line or error report could print of an error, its fields and its causes. */
function everythingPrintable(error: unknown, depth = 0): string {
  if (depth > 4 || error === null || error === undefined) return '';
  if (typeof error !== 'object') return String(error);
  const parts = [String(error), JSON.stringify(error)];
  if (error instanceof Error) parts.push(error.message, error.stack ?? '');
  for (const value of Object.values(error)) parts.push(everythingPrintable(value, depth + 1));
  if (error instanceof Error && error.cause !== undefined) parts.push(everythingPrintable(error.cause, depth + 1));
  return parts.join('\n');
}

function echoAll(request: SeenRequest): string {
  return `${request.body} ${request.headers.get('authorization') ?? ''} ${decodeURIComponent(request.body)} ${new URLSearchParams(request.body).toString()}`;
}

/** Server answers that echo every credential they were sent, in every shape an answer can take. */
const hostileAnswers: Record<string, (request: SeenRequest) => Response> = {
  'OAuth error echoing the request': (r) =>
    Response.json({ error: 'invalid_grant', error_description: echoAll(r), error_uri: `https://as.example/?${r.body}` }, { status: 400 }),
  'error code itself echoing a secret': () => Response.json({ error: `bad ${SECRET}`, error_description: SECRET }, { status: 400 }),
  'HTML login page echoing': (r) => new Response(`<html><body>${echoAll(r)}</body></html>`, { headers: { 'content-type': 'text/html' } }),
  'HTML 500 echoing': (r) => new Response(`<html>${echoAll(r)}</html>`, { status: 500, headers: { 'content-type': 'text/html' } }),
  'truncated JSON echoing': (r) => new Response(`{"echo":"${echoAll(r)}`, { headers: { 'content-type': 'application/json' } }),
  'plain text echoing': (r) => new Response(echoAll(r), { headers: { 'content-type': 'text/plain' } }),
  'invalid token body echoing': (r) => Response.json({ access_token: 7, token_type: echoAll(r) }),
  'non-OAuth JSON error echoing': (r) => Response.json({ message: echoAll(r) }, { status: 503 }),
  'rate limit echoing': (r) => Response.json({ error: 'slow_down', error_description: echoAll(r) }, { status: 429, headers: { 'retry-after': '1' } }),
};

const grants: Record<string, (fetch: FetchLike, auth: 'client_secret_basic' | 'client_secret_post') => Promise<unknown>> = {
  authorization_code: (fetch, auth) =>
    authorizationCodeGrant(profile(fetch, auth), { code: CODE, codeVerifier: VERIFIER, redirectUri: 'https://app.example/cb' }),
  refresh_token: (fetch, auth) => refreshTokenGrant(profile(fetch, auth), REFRESH),
  password: (fetch, auth) => passwordGrant(profile(fetch, auth), { username: 'ann', password: PASSWORD }),
};

function profile(fetch: FetchLike, auth: 'client_secret_basic' | 'client_secret_post') {
  return oauth2({ tokenUrl: 'https://as.example/token', clientId: 'shop', clientSecret: SECRET, auth, fetch });
}

describe('no secret, token, code or verifier in any error', () => {
  for (const [answerName, answer] of Object.entries(hostileAnswers)) {
    for (const [grantName, run] of Object.entries(grants)) {
      for (const auth of ['client_secret_basic', 'client_secret_post'] as const) {
        it(`${answerName} / ${grantName} / ${auth}`, async () => {
          const mock = mockFetch(answer);
          const error = await run(mock.fetch, auth).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(Error);
          mock.expectCount(1);
          const printed = everythingPrintable(error);
          for (const canary of CANARIES) expect(printed).not.toContain(canary);
          expect(printed).not.toContain(btoa(`shop:${SECRET}`));
        });
      }
    }
  }

  it('an error callback that echoes the code is redacted', async () => {
    const p = oauth2({ authorizeUrl: 'https://as.example/a', tokenUrl: 'https://as.example/t', clientId: 'spa' });
    const tx = await startAuthorization(p, { redirectUri: 'https://app.example/cb' });
    const url = new URL('https://app.example/cb');
    url.searchParams.set('state', tx.state);
    url.searchParams.set('code', CODE);
    url.searchParams.set('error', 'server_error');
    url.searchParams.set('error_description', `could not issue for ${CODE}`);
    const error = await completeAuthorization(p, tx, url).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'server_error' });
    expect(everythingPrintable(error)).not.toContain(CODE);
  });
});

describe('vendor error details are redacted too', () => {
  it('scrubs every string inside details', async () => {
    const mock = mockFetch(() => Response.json({ errors: [{ detail: `bad ${REFRESH}`, meta: { echo: [SECRET] } }] }, { status: 400 }));
    const profile = {
      ...oauth2({ tokenUrl: 'https://as.example/token', clientId: 'shop', clientSecret: SECRET, fetch: mock.fetch }),
      mapErrorBody: (body: unknown) => ({ error: 'invalid_grant', details: (body as { errors: unknown }).errors }),
    };
    const error = await refreshTokenGrant(profile, REFRESH).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_grant' });
    const printed = everythingPrintable(error) + JSON.stringify((error as { details: unknown }).details);
    for (const canary of [SECRET, REFRESH]) expect(printed).not.toContain(canary);
  });
});
