import { describe, expect, it } from 'vitest';
import { createTokenSource, ErrorCode } from '../../src/index.js';
import { createApiClient } from '../../src/http/index.js';
import { oauth2 } from '../../src/profiles/index.js';
import { json, mockFetch, type SeenRequest } from '../helpers/mock-fetch.js';

/** A token endpoint and an API behind one mock: the API accepts only the newest token. */
function world(options: { apiStatus?: (request: SeenRequest, newest: string) => number; tokenType?: string; deprecatedName?: boolean } = {}) {
  let issued = 0;
  const tokenCalls: SeenRequest[] = [];
  const apiCalls: SeenRequest[] = [];
  const mock = mockFetch((request) => {
    if (request.url === 'https://as.example/token') {
      tokenCalls.push(request);
      issued++;
      return json({ access_token: `at-${issued}`, token_type: options.tokenType ?? 'Bearer', expires_in: 3600 });
    }
    apiCalls.push(request);
    const newest = `Bearer at-${issued}`;
    const status = options.apiStatus?.(request, newest) ?? (request.headers.get('authorization') === newest ? 200 : 401);
    return json({ ok: status === 200, path: new URL(request.url).pathname }, status);
  });
  const profile = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: mock.fetch });
  const tokenSource = createTokenSource(profile);
  const base = options.deprecatedName ? { prefixUrl: 'https://api.example/v2' } : { prefix: 'https://api.example/v2' };
  const api = createApiClient({ tokenSource, ...base, fetch: mock.fetch, retry: { limit: 2 } });
  return { api, tokenSource, tokenCalls, apiCalls, mock };
}

describe('createApiClient', () => {
  it("attaches the bearer token under ky 2's prefix, and under the deprecated prefixUrl", async () => {
    for (const deprecatedName of [false, true]) {
      const { api, apiCalls, tokenCalls } = world({ deprecatedName });
      await expect(api.get('orders').json()).resolves.toEqual({ ok: true, path: '/v2/orders' });
      expect(apiCalls[0]!.headers.get('authorization')).toBe('Bearer at-1');
      expect(tokenCalls).toHaveLength(1);
    }
  });

  it('sends a lower-case bearer token type as Bearer (RFC 6750 scheme names are case-insensitive)', async () => {
    const { api, apiCalls } = world({ tokenType: 'bearer' });
    await api.get('orders').json();
    expect(apiCalls[0]!.headers.get('authorization')).toBe('Bearer at-1');
  });

  for (const tokenType of ['DPoP', 'dpop', 'MAC', 'N_A']) {
    it(`never sends a ${tokenType} token as Authorization: Bearer: a typed error, and the API is not called`, async () => {
      const { api, apiCalls } = world({ tokenType });
      await expect(api.get('orders')).rejects.toMatchObject({ code: ErrorCode.UNSUPPORTED_TOKEN_TYPE, message: expect.not.stringContaining('at-1') });
      expect(apiCalls).toHaveLength(0);
    });
  }

  it('never loops on 401: one retry, then the 401 surfaces', async () => {
    const { api, apiCalls, tokenCalls } = world({ apiStatus: () => 401 });
    const error = await api.get('orders').catch((e: unknown) => e);
    expect((error as { response?: Response }).response?.status).toBe(401);
    expect(apiCalls).toHaveLength(2);
    expect(tokenCalls).toHaveLength(2);
    expect(apiCalls.map((r) => r.headers.get('authorization'))).toEqual(['Bearer at-1', 'Bearer at-2']);
  });

  it('late 401s carrying a replaced token cause no extra token request', async () => {
    const { tokenSource, tokenCalls } = world();
    const first = await tokenSource.getToken();
    tokenSource.invalidate(first.accessToken);
    await tokenSource.getToken();
    for (let i = 0; i < 50; i++) tokenSource.invalidate(first.accessToken);
    await tokenSource.getToken();
    expect(tokenCalls).toHaveLength(2);
  });

  it('never sends the token to another origin', async () => {
    const { api, apiCalls } = world();
    // A prefix-relative path can never leave prefixUrl; an instance re-pointed elsewhere sends no token.
    await api.extend({ prefix: 'https://evil.example' }).get('collect').catch(() => undefined);
    const leaked = apiCalls.find((r) => r.url.startsWith('https://evil.example'));
    expect(leaked).toBeDefined();
    expect(leaked!.headers.get('authorization')).toBeNull();
  });

  it('sends a POST body again on the retry', async () => {
    let calls = 0;
    const { api, apiCalls } = world({ apiStatus: (_r, _n) => (++calls === 1 ? 401 : 200) });
    await api.post('orders', { json: { sku: 'A-1' } }).json();
    expect(apiCalls.map((r) => r.body)).toEqual(['{"sku":"A-1"}', '{"sku":"A-1"}']);
    expect(apiCalls[1]!.headers.get('authorization')).toBe('Bearer at-2');
  });
});
