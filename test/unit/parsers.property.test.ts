import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCallback, isOAuthError, isTokenGateError, processTokenResponse, type Profile, type TokenSet } from '../../src/index.js';
import { eshopbox, instabox, instacart, instellix, oauth2, shopware } from '../../src/profiles/index.js';
import { errorFromAnswer } from '../../src/token-response.js';
import type { JsonBody } from '../../src/transport.js';

// Property tests of the parsers that read what servers and browsers send: the token-response parser,
// the error parser and the callback check. No input crashes them, every rejection is a typed
// TokenGateError, every success is well formed, and no message repeats a credential of the request.
// Runs unchanged in Node, Chromium and workerd (the unit glob). Bounded: a few hundred runs each.

const RUNS = 300;
const NOW = 1_700_000_000_000;

/**
 * Request credentials: 12–40 characters, including the `+ / =` that change under form encoding.
 * Long enough that they cannot coincide with the fixed words of a message (the redaction skips values
 * shorter than 6 characters on purpose: they would mangle ordinary words and are no secrets).
 */
const secret = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/='), minLength: 12, maxLength: 40 });

/** Each vendor's profile, with the generated client secret as its own credential. */
const PROFILES: Record<string, (clientSecret: string) => Profile> = {
  oauth2: (clientSecret) => oauth2({ tokenUrl: 'https://as.example/token', clientId: 'client', clientSecret }),
  instabox: (clientSecret) => instabox({ clientId: 'client', clientSecret }),
  eshopbox: (clientSecret) => eshopbox({ clientId: 'client', clientSecret, refreshToken: `${clientSecret}-refresh` }),
  instellix: (clientSecret) => instellix({ realm: 'acme', environment: 'sandbox', clientId: 'client', clientSecret }),
  shopware: (clientSecret) => shopware({ shopUrl: 'https://shop.example', clientId: 'client', clientSecret }),
  instacart: (clientSecret) => instacart({ environment: 'development', clientId: 'client', clientSecret, scope: 'connect:fulfillment' }),
};
const profileName = fc.constantFrom(...Object.keys(PROFILES));

/** A value that may hold one of the secrets, as vendors that echo what they were sent do. */
const maybeSecret = (secrets: string[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(...secrets),
    fc.constantFrom(...secrets).map((s) => `invalid value ${s} was sent`),
    fc.constantFrom(...secrets).map((s) => encodeURIComponent(s)),
    fc.constantFrom(...secrets).map((s) => `https://as.example/err?client_secret=${encodeURIComponent(s)}`),
    fc.string({ maxLength: 40 }),
    fc.anything({ maxDepth: 2 }),
  );

/** Error and success bodies in every vendor's dialect, with secrets echoed in their text fields. */
const shapedBody = (secrets: string[]): fc.Arbitrary<unknown> => {
  const text = maybeSecret(secrets);
  return fc.oneof(
    fc.record({ error: fc.oneof(fc.constantFrom('invalid_grant', 'invalid_client', 'unauthorized', 'slow_down'), text), error_description: text, error_uri: text }, { requiredKeys: [] }),
    fc.record({ error: fc.record({ message: text, code: text, meta: fc.record({ key: text }) }, { requiredKeys: [] }) }),
    fc.record({ errors: fc.array(fc.record({ code: text, status: text, title: text, detail: text, message: text, meta: fc.record({ key: text }) }, { requiredKeys: [] }), { maxLength: 3 }) }),
    fc.record({ status: fc.oneof(fc.constant('ERROR'), fc.constant('OK'), text), message: text, token: text }, { requiredKeys: [] }),
    fc.record(
      {
        access_token: fc.oneof(fc.string(), text),
        token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'DPoP', ''), fc.string()),
        expires_in: fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 12 }), fc.stringMatching(/^\d{1,12}$/), fc.constant(null)),
        refresh_token: fc.oneof(fc.string(), text),
        scope: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    ),
    fc.anything(),
  );
};

/** The raw text of a body: JSON of a shaped value, that JSON cut short, or any string at all. */
const bodyText = (secrets: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    shapedBody(secrets).map((value) => JSON.stringify(value) ?? 'undefined'),
    fc.tuple(shapedBody(secrets), fc.nat()).map(([value, cut]) => {
      const text = JSON.stringify(value) ?? '';
      return text.slice(0, text.length === 0 ? 0 : cut % text.length);
    }),
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom('<!DOCTYPE html><html><body>Sign in</body></html>', '<html>', '   <body>', '', 'null', '[]', '{"access_token":"a","token_type":"Bearer","expires_in":1e400}'),
  );

const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/problem+json', 'text/html', 'text/plain', 'application/xhtml+xml', 'application/x-www-form-urlencoded', ''),
  fc.string({ maxLength: 30 }),
);

/** Any status a Response may carry with a body (204, 205 and 304 may not have one). */
const status = fc.oneof(fc.constantFrom(200, 201, 400, 401, 403, 429, 500, 503), fc.integer({ min: 200, max: 599 })).filter((s) => ![204, 205, 304].includes(s));
const retryAfter = fc.option(fc.oneof(fc.nat({ max: 100_000 }).map(String), fc.string({ maxLength: 30 }), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString())), { nil: undefined });

function response(text: string, type: string, code: number, retry: string | undefined): Response {
  const headers = new Headers();
  // Header values cannot hold every string: drop what the platform refuses, as a server's stack would.
  try {
    if (type !== '') headers.set('content-type', type);
  } catch {
    /* not a valid header value */
  }
  try {
    if (retry !== undefined) headers.set('retry-after', retry);
  } catch {
    /* not a valid header value */
  }
  return new Response(text, { status: code, headers });
}

/** RFC 6749 Appendix A: access_token and refresh_token are 1*VSCHAR (%x20-7E); blank would be no token. */
const VSCHAR = /^[\x20-\x7e]+$/;

function expectWellFormed(tokens: TokenSet): void {
  const keys = Object.keys(tokens);
  expect(keys.every((key) => ['accessToken', 'tokenType', 'expiresAt', 'refreshToken', 'scope'].includes(key)), `keys ${keys.join(', ')}`).toBe(true);
  const usable = (value: unknown): boolean => typeof value === 'string' && VSCHAR.test(value) && value.trim() !== '';
  // These go into an Authorization header: a control or non-ASCII character would throw there instead.
  expect(usable(tokens.accessToken), `accessToken ${JSON.stringify(tokens.accessToken)} is not 1*VSCHAR`).toBe(true);
  expect(usable(tokens.tokenType), `tokenType ${JSON.stringify(tokens.tokenType)} is not 1*VSCHAR`).toBe(true);
  // An epoch-ms instant, no earlier than receipt: Infinity or NaN would not survive a JSON store.
  if (tokens.expiresAt !== undefined) expect(Number.isFinite(tokens.expiresAt) && tokens.expiresAt >= NOW, `expiresAt ${tokens.expiresAt} is not a finite instant`).toBe(true);
  if (tokens.refreshToken !== undefined) expect(usable(tokens.refreshToken), `refreshToken ${JSON.stringify(tokens.refreshToken)} is not 1*VSCHAR`).toBe(true);
  if (tokens.scope !== undefined) expect(tokens.scope.every((s) => typeof s === 'string' && s.length > 0 && s.trim() === s), `scope ${JSON.stringify(tokens.scope)}`).toBe(true);
}

function expectNoSecret(error: unknown, secrets: string[]): void {
  const e = error as { message: string; description?: unknown; uri?: unknown; code: string; details?: unknown };
  const texts = [e.message, e.code, typeof e.description === 'string' ? e.description : '', typeof e.uri === 'string' ? e.uri : '', JSON.stringify(e.details ?? null)];
  for (const value of secrets) {
    for (const form of new Set([value, encodeURIComponent(value)])) {
      for (const text of texts) expect(text.includes(form), `"${form}" in ${JSON.stringify(text)}`).toBe(false);
    }
  }
}

describe('processTokenResponse on arbitrary answers', () => {
  it('resolves a well-formed TokenSet only for a 2xx answer, and otherwise rejects with a typed error that repeats no secret', async () => {
    const input = fc
      .tuple(profileName, secret, fc.array(secret, { minLength: 1, maxLength: 3 }))
      .chain(([name, clientSecret, requestSecrets]) =>
        fc.record({
          name: fc.constant(name),
          clientSecret: fc.constant(clientSecret),
          requestSecrets: fc.constant(requestSecrets),
          text: bodyText([clientSecret, ...requestSecrets]),
          type: contentType,
          code: status,
          retry: retryAfter,
          previousRefreshToken: fc.option(fc.constantFrom(...requestSecrets), { nil: undefined }),
          requestedScope: fc.option(fc.array(fc.stringMatching(/^[a-z:]{1,12}$/), { maxLength: 3 }), { nil: undefined }),
        }),
      );
    await fc.assert(
      fc.asyncProperty(input, async (c) => {
        const profile = PROFILES[c.name]!(c.clientSecret);
        const answer = response(c.text, c.type, c.code, c.retry);
        const secrets = [c.clientSecret, ...c.requestSecrets];
        let outcome: { ok: true; tokens: TokenSet } | { ok: false; error: unknown };
        try {
          outcome = {
            ok: true,
            tokens: await processTokenResponse(profile, answer, {
              label: `${c.name} token endpoint`,
              secrets: c.requestSecrets,
              receivedAt: NOW,
              previousRefreshToken: c.previousRefreshToken,
              requestedScope: c.requestedScope,
            }),
          };
        } catch (error) {
          outcome = { ok: false, error };
        }
        if (outcome.ok) {
          expect(c.code >= 200 && c.code < 300).toBe(true);
          expectWellFormed(outcome.tokens);
        } else {
          expect(isTokenGateError(outcome.error), String(outcome.error)).toBe(true);
          expectNoSecret(outcome.error, secrets);
          const { status: errorStatus, retryAfter: wait } = outcome.error as { status?: number; retryAfter?: number };
          if (errorStatus !== undefined) expect(errorStatus).toBe(c.code);
          if (wait !== undefined) expect(Number.isFinite(wait) && wait >= 0).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a plausible 200 answer with any field values resolves well formed or rejects typed', async () => {
    // Mostly-valid success bodies, so the field checks themselves are what is explored (expires_in above all).
    const body = fc.record(
      {
        access_token: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,64}$/), fc.string(), fc.integer()),
        token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'DPoP', 'mac'), fc.string({ maxLength: 10 })),
        expires_in: fc.oneof(
          fc.double(),
          fc.double({ min: 0, max: 1e20, noNaN: true }),
          fc.double({ min: 1e10, max: Number.MAX_VALUE, noNaN: true }),
          fc.integer(),
          fc.bigInt({ min: 0n, max: 10n ** 30n }).map((n) => Number(n)),
          fc.stringMatching(/^\d{1,12}$/),
          fc.string({ maxLength: 12 }),
        ),
        refresh_token: fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{1,40}$/), fc.constant(''), fc.integer()),
        scope: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('read write', ' read  write ', 'openid,profile', '')),
      },
      { requiredKeys: ['access_token', 'token_type'] },
    );
    await fc.assert(
      fc.asyncProperty(profileName, body, async (name, value) => {
        const profile = PROFILES[name]!('client-secret-value');
        const text = JSON.stringify(name === 'instabox' ? { status: 'OK', token: value.access_token } : value);
        let tokens: TokenSet;
        try {
          tokens = await processTokenResponse(profile, response(text, 'application/json', 200, undefined), { label: 'token endpoint', secrets: [], receivedAt: NOW });
        } catch (error) {
          expect(isTokenGateError(error), String(error)).toBe(true);
          return;
        }
        expectWellFormed(tokens);
      }),
      { numRuns: RUNS },
    );
  });

  it('a valid answer cut anywhere is never accepted as a token', async () => {
    const valid = fc.record({ access_token: fc.stringMatching(/^[A-Za-z0-9]{8,64}$/), token_type: fc.constant('Bearer'), expires_in: fc.nat({ max: 100_000 }) });
    await fc.assert(
      fc.asyncProperty(valid, fc.nat(), async (body, cut) => {
        const text = JSON.stringify(body);
        const truncated = text.slice(0, cut % text.length);
        const error = await processTokenResponse(PROFILES['oauth2']!('client-secret-value'), response(truncated, 'application/json', 200, undefined), {
          label: 'token endpoint',
          secrets: [],
          receivedAt: NOW,
        }).catch((e: unknown) => e);
        expect(isTokenGateError(error)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('errorFromAnswer on arbitrary JSON', () => {
  it('never throws, always answers a TokenGateError, and its message repeats none of the request secrets', () => {
    const input = fc
      .tuple(profileName, fc.array(secret, { minLength: 1, maxLength: 4 }))
      .chain(([name, secrets]) =>
        fc.record({
          name: fc.constant(name),
          secrets: fc.constant(secrets),
          value: shapedBody(secrets),
          kind: fc.constantFrom<JsonBody['kind']>('json', 'json', 'json', 'html', 'other', 'invalid'),
          code: status.filter((s) => s >= 300),
          retry: retryAfter,
        }),
      );
    fc.assert(
      fc.property(input, (c) => {
        const profile = PROFILES[c.name]!(c.secrets[0]!);
        const body: JsonBody =
          c.kind === 'json' ? { kind: 'json', value: c.value } : c.kind === 'other' ? { kind: 'other', contentType: 'text/plain' } : { kind: c.kind };
        const error = errorFromAnswer(profile, response('', 'application/json', c.code, c.retry), body, `${c.name} token endpoint`, c.secrets);
        expect(isTokenGateError(error)).toBe(true);
        expect(error.status).toBe(c.code);
        expect(typeof error.code === 'string' && error.code.length > 0).toBe(true);
        expectNoSecret(error, c.secrets);
        if (isOAuthError(error) && error.description !== undefined) expect(error.description.length).toBeLessThanOrEqual(301);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('checkCallback on arbitrary query strings', () => {
  const redirectUri = 'https://app.example/callback';
  const issuer = 'https://as.example';
  const profiles = fc.constantFrom(
    { name: 'plain', issuer: undefined, requireIss: undefined },
    { name: 'iss-when-sent', issuer, requireIss: false },
    { name: 'iss-always', issuer, requireIss: true },
  );
  const state = fc.stringMatching(/^[A-Za-z0-9_-]{22,43}$/);
  /** One query parameter: mostly the protocol's names, with the right, a wrong or a weird value. */
  const param = (txState: string): fc.Arbitrary<[string, string]> =>
    fc.tuple(
      fc.oneof(fc.constantFrom('state', 'code', 'iss', 'error', 'error_description', 'error_uri'), fc.string({ maxLength: 8 })),
      fc.oneof(fc.constant(txState), fc.constant(issuer), fc.constant(''), fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 })),
    );
  const callback = (txState: string): fc.Arbitrary<string> =>
    fc.oneof(
      // Well-formed query strings built from parameters.
      fc.array(param(txState), { maxLength: 6 }).map((pairs) => `${redirectUri}?${new URLSearchParams(pairs).toString()}`),
      // Raw, possibly malformed query strings (bad percent-escapes, lone surrogates, `#`, `&&`).
      fc.string({ unit: 'binary', maxLength: 120 }).map((query) => `${redirectUri}?${query}`),
      fc.string({ maxLength: 80 }).map((query) => `${redirectUri}?state=${txState}&code=${query}`),
      // Other places entirely: other paths, origins, or no URL at all.
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.string({ maxLength: 80 }),
    );

  it('throws only typed errors and returns a code only when state is the transaction’s', () => {
    fc.assert(
      fc.property(
        profiles,
        state.chain((txState) => fc.tuple(fc.constant(txState), callback(txState))),
        (profile, [txState, url]) => {
          let code: string | undefined;
          try {
            code = checkCallback(profile, { state: txState, redirectUri }, url);
          } catch (error) {
            expect(isTokenGateError(error), String(error)).toBe(true);
            return;
          }
          const parsed = new URL(url);
          expect(parsed.origin + parsed.pathname).toBe(redirectUri);
          expect(parsed.searchParams.get('state')).toBe(txState);
          expect(parsed.searchParams.get('error')).toBeNull();
          expect(code.length).toBeGreaterThan(0);
          expect(code).toBe(parsed.searchParams.get('code'));
          const iss = parsed.searchParams.get('iss');
          if (profile.requireIss === true || iss !== null) expect(iss).toBe(issuer);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a code with a wrong or missing state is always refused', () => {
    fc.assert(
      fc.property(state, fc.option(fc.string({ maxLength: 43 }), { nil: undefined }), fc.string({ minLength: 1, maxLength: 40 }), (txState, sent, code) => {
        fc.pre(sent !== txState);
        const query = new URLSearchParams([['code', code]]);
        if (sent !== undefined) query.set('state', sent);
        let error: unknown;
        try {
          checkCallback({ name: 'plain' }, { state: txState, redirectUri }, `${redirectUri}?${query.toString()}`);
        } catch (e) {
          error = e;
        }
        expect(isTokenGateError(error)).toBe(true);
        expect((error as { code: string }).code).toMatch(/^ERR_STATE_(MISSING|MISMATCH)$/);
      }),
      { numRuns: RUNS },
    );
  });
});
