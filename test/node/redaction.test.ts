import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTokenSource, ErrorCode } from '../../src/index.js';
import { oauth2 } from '../../src/profiles/index.js';
import { redact } from '../../src/redact.js';
import { json, mockFetch } from '../helpers/mock-fetch.js';

// Secrets of every length stay out of every rendering of an error: message, String(), inspect, JSON.
const renderings = (error: unknown): string[] => [(error as Error).message, String(error), inspect(error, { depth: 5 }), JSON.stringify(error)];

describe('redaction of secrets of every length', () => {
  for (const secret of ['pw+12', 'x', 'ab', 'p:%/=', 'a-much-longer-client-secret']) {
    it(`a server echoing the secret ${JSON.stringify(secret)} in error_description and error_uri leaks it nowhere`, async () => {
      const mock = mockFetch(() =>
        json({ error: 'invalid_client', error_description: `client secret ${secret} is wrong (got "${encodeURIComponent(secret)}")`, error_uri: `https://as.example/e?s=${secret}` }, 401),
      );
      const profile = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: secret, auth: 'client_secret_post', fetch: mock.fetch });
      const error = await createTokenSource(profile).getToken().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
      for (const text of renderings(error)) {
        expect(text).not.toMatch(new RegExp(`(?<![A-Za-z0-9])${secret.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?![A-Za-z0-9])`));
        expect(text).not.toContain(encodeURIComponent(secret).length >= 6 ? encodeURIComponent(secret) : '\u0000');
      }
      expect((error as Error).message).toContain('client secret [redacted] is wrong');
    });
  }

  it('a password of 5 characters in a problem detail is redacted too', async () => {
    const mock = mockFetch(() => json({ title: 'Unauthorized', detail: 'user bob with password pw+12 unknown' }, 401));
    const profile = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 'long-enough-secret', grant: { type: 'password', username: 'bob', password: 'pw+12' }, fetch: mock.fetch });
    const error = await createTokenSource(profile).getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.HTTP_STATUS });
    for (const text of renderings(error)) expect(text).not.toContain('pw+12');
  });

  it('does not mangle ordinary words that merely contain a short secret', () => {
    expect(redact('invalid_grant: the grant has expired', ['ant', 'he', 'x'])).toBe('invalid_grant: the grant has expired');
    expect(redact('secret "ant" refused', ['ant'])).toBe('secret "[redacted]" refused');
    expect(redact('token=ab&x=1', ['ab'])).toBe('token=[redacted]&x=1');
  });
});
