// Error messages in both builds (`#dev`): development builds carry the English sentence, production builds
// only the stable code and the facts that vary (endpoint, field, status, type, limit). Run by every unit
// project (development messages) and by node-production (production messages).
import { DEV } from '#dev';
import { describe, expect, it } from 'vitest';
import { checkCallback, checkEndpoint, clientCredentialsGrant, createPkce, ErrorCode, introspectToken, isTokenGateError, type TokenGateError } from '../../src/index.js';
import { discover, instellix, oauth2, shopware } from '../../src/profiles/index.js';
import { hangingFetch, json, mockFetch, type Responder } from '../helpers/mock-fetch.js';

const grantWith = (responder: Responder | typeof hangingFetch, timeout?: number) =>
  clientCredentialsGrant(
    oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 'secret-value', fetch: responder === hangingFetch ? hangingFetch : mockFetch(responder as Responder).fetch, ...(timeout ? { timeout } : {}) }),
  );

async function thrown(run: () => unknown): Promise<TokenGateError> {
  try {
    await run();
  } catch (error) {
    if (isTokenGateError(error)) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

/** Each error: its code, its production message (code and facts), and the sentence a development build adds. */
const CASES: { what: string; run: () => unknown; code: string; production: string; sentence: RegExp }[] = [
  {
    what: 'a token answer field out of range',
    run: () => grantWith(() => json({ access_token: 'a', token_type: 'Bearer', expires_in: -1 })),
    code: ErrorCode.INVALID_RESPONSE,
    production: 'ERR_INVALID_RESPONSE oauth2 token endpoint "expires_in"',
    sentence: /^The oauth2 token endpoint answer has a missing or invalid "expires_in"$/,
  },
  {
    what: 'an HTML page for a token answer',
    run: () => grantWith(() => new Response('<!doctype html><p>login</p>', { headers: { 'content-type': 'text/html' } })),
    code: ErrorCode.HTML_RESPONSE,
    production: 'ERR_HTML_RESPONSE oauth2 token endpoint 200',
    sentence: /^The oauth2 token endpoint answered with an HTML page instead of JSON \(HTTP 200\)$/,
  },
  {
    what: 'another content type',
    run: () => grantWith(() => new Response('a=b', { headers: { 'content-type': 'text/plain' } })),
    code: ErrorCode.CONTENT_TYPE,
    production: 'ERR_CONTENT_TYPE oauth2 token endpoint 200 text/plain',
    sentence: /^The oauth2 token endpoint answered with Content-Type text\/plain instead of application\/json \(HTTP 200\)$/,
  },
  {
    what: 'a plain HTTP error',
    run: () => grantWith(() => new Response('', { status: 502 })),
    code: ErrorCode.HTTP_STATUS,
    production: 'ERR_HTTP_STATUS oauth2 token endpoint 502',
    sentence: /^The oauth2 token endpoint answered HTTP 502$/,
  },
  {
    what: 'an OAuth error answer, its description redacted',
    run: () => grantWith(() => json({ error: 'invalid_client', error_description: 'bad secret secret-value' }, 401)),
    code: 'invalid_client',
    production: 'invalid_client oauth2 token endpoint (HTTP 401): bad secret [redacted]',
    sentence: /^The oauth2 token endpoint \(HTTP 401\) answered invalid_client: bad secret \[redacted\]$/,
  },
  {
    what: 'a request past its timeout',
    run: () => grantWith(hangingFetch, 20),
    code: ErrorCode.TIMEOUT,
    production: 'ERR_TIMEOUT oauth2 token endpoint 20 ms',
    sentence: /^The request to the oauth2 token endpoint did not finish within 20 ms$/,
  },
  {
    what: 'an endpoint without TLS',
    run: () => checkEndpoint('tokenUrl', 'http://as.example/token'),
    code: ErrorCode.INVALID_CONFIG,
    production: 'ERR_INVALID_CONFIG tokenUrl https:',
    sentence: /^tokenUrl must use https: \(http: only on loopback\)$/,
  },
  {
    what: 'a callback without state',
    run: async () => checkCallback({ name: 'oauth2' }, { state: (await createPkce()).verifier, redirectUri: 'https://app.example/cb' }, 'https://app.example/cb?code=x'),
    code: ErrorCode.STATE_MISSING,
    production: 'ERR_STATE_MISSING',
    sentence: /^The callback has no state parameter$/,
  },
  // The standards and the vendor profiles, the same way.
  {
    what: 'an introspection answer without a boolean active',
    run: () => introspectToken(oauth2({ tokenUrl: 'https://as.example/token', introspectionUrl: 'https://as.example/introspect', clientId: 'c', clientSecret: 'secret-value', fetch: mockFetch(() => json({ scope: 'read' })).fetch }), 't'),
    code: ErrorCode.INVALID_RESPONSE,
    production: 'ERR_INVALID_RESPONSE oauth2 introspection endpoint "active"',
    sentence: /^The oauth2 introspection endpoint answer has a missing or invalid "active"$/,
  },
  {
    what: 'discovered metadata that names another issuer',
    run: () =>
      discover('https://as.example/tenant', {
        clientId: 'c',
        fetch: mockFetch(() => json({ issuer: 'https://as.example/other', token_endpoint: 'https://as.example/token', authorization_endpoint: 'https://as.example/authorize', code_challenge_methods_supported: ['S256'] })).fetch,
      }),
    code: ErrorCode.INVALID_METADATA,
    production: 'ERR_INVALID_METADATA https://as.example/.well-known/oauth-authorization-server/tenant https://as.example/other',
    sentence: /^The metadata at https:\/\/as\.example\/\.well-known\/oauth-authorization-server\/tenant names issuer https:\/\/as\.example\/other, not https:\/\/as\.example\/tenant$/,
  },
  {
    what: 'a vendor profile with an unsafe realm',
    run: () => instellix({ realm: '..', environment: 'sandbox', clientId: 'c', clientSecret: 's' }),
    code: ErrorCode.INVALID_CONFIG,
    production: 'ERR_INVALID_CONFIG realm',
    sentence: /^realm must be a single URL path segment/,
  },
  {
    what: 'a vendor profile given both kinds of credentials',
    run: () => shopware({ shopUrl: 'https://shop.example', clientId: 'c', clientSecret: 's', username: 'u', password: 'p' } as never),
    code: ErrorCode.INVALID_CONFIG,
    production: 'ERR_INVALID_CONFIG shopware both',
    sentence: /^shopware takes clientId \+ clientSecret \(integration\) or username \+ password \(admin user\), not both$/,
  },
];

describe(`error messages (${DEV ? 'development' : 'production'} build)`, () => {
  it('the production project gets the production flag, every other project the development one', ({ task }) => {
    expect(DEV).toBe(task.file.projectName !== 'node-production');
  });

  for (const { what, run, code, production, sentence } of CASES) {
    it(`${what}: the stable code and the facts in both builds, the sentence in development`, async () => {
      const error = await thrown(run);
      expect(error.code).toBe(code);
      if (DEV) expect(error.message).toMatch(sentence);
      else expect(error.message).toBe(production);
    });
  }
});
