import { describe, expect, it } from 'vitest';
import { clientCredentialsGrant, ErrorCode, passwordGrant, refreshTokenGrant, startAuthorization } from '../../src/index.js';
import { eshopbox, instacart, oauth2 } from '../../src/profiles/index.js';
import { mockFetch, tokenAnswer } from '../helpers/mock-fetch.js';

// `scope` is a string or a list wherever it is accepted; anything else is a typed configuration error.
const redirectUri = 'https://app.example/callback';
const profile = (fetch?: ReturnType<typeof mockFetch>['fetch']) =>
  oauth2({ authorizeUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', ...(fetch ? { fetch } : {}) });
const bad: unknown[] = [42, { read: true }, [1, 2], ['read', ''], ['read write'], null, true];

describe('scope as a string or a list', () => {
  it('startAuthorization takes a string and a list alike', async () => {
    const fromString = await startAuthorization(profile(), { redirectUri, scope: 'read  write' });
    const fromList = await startAuthorization(profile(), { redirectUri, scope: ['read', 'write'] });
    expect(new URL(fromString.url).searchParams.get('scope')).toBe('read write');
    expect(new URL(fromList.url).searchParams.get('scope')).toBe('read write');
  });

  it("startAuthorization joins a string scope with the profile's separator", async () => {
    const shop = { ...eshopbox({ clientId: 'c', clientSecret: 's', refreshToken: 'rt-app' }), authorizeUrl: 'https://as.example/authorize' };
    const tx = await startAuthorization(shop, { redirectUri, scope: 'openid,profile' });
    expect(new URL(tx.url).searchParams.get('scope')).toBe('openid,profile');
  });

  it('the grants take a string scope', async () => {
    const mock = mockFetch(() => tokenAnswer());
    await clientCredentialsGrant(profile(mock.fetch), { scope: 'read write' });
    await passwordGrant(profile(mock.fetch), { username: 'u', password: 'p' }, { scope: 'read' });
    await refreshTokenGrant(profile(mock.fetch), 'rt', { scope: 'write' });
    expect(mock.requests.map((r) => new URLSearchParams(r.body).get('scope'))).toEqual(['read write', 'read', 'write']);
  });

  it('profiles take a string scope', () => {
    expect(oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', scope: 'a b' }).scope).toEqual(['a', 'b']);
    expect(instacart({ environment: 'development', clientId: 'c', clientSecret: 's', scope: 'connect:fulfillment' }).scope).toEqual(['connect:fulfillment']);
  });

  for (const value of bad) {
    it(`refuses ${JSON.stringify(value)} with ERR_INVALID_CONFIG at every boundary, never a TypeError`, async () => {
      const scope = value as string;
      const typed = { code: ErrorCode.INVALID_CONFIG, message: expect.stringContaining('scope') };
      await expect(startAuthorization(profile(), { redirectUri, scope })).rejects.toMatchObject(typed);
      const mock = mockFetch(() => tokenAnswer());
      await expect(clientCredentialsGrant(profile(mock.fetch), { scope })).rejects.toMatchObject(typed);
      await expect(refreshTokenGrant(profile(mock.fetch), 'rt', { scope })).rejects.toMatchObject(typed);
      expect(() => oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', scope })).toThrow(expect.objectContaining(typed));
      mock.expectCount(0);
    });
  }
});
