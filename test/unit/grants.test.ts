import { describe, expect, it } from 'vitest';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  clientSecretBasic,
  clientSecretBasicPlain,
  clientSecretPost,
  noClientAuth,
  passwordGrant,
  refreshTokenGrant,
  type ClientAuthentication,
  type Profile,
  type TokenSet,
} from '../../src/index.js';
import { mockFetch, tokenAnswer, type SeenRequest } from '../helpers/mock-fetch.js';

const ID = 'client:id é';
const SECRET = 's3cret +/&=:é';

const auths: Record<string, { make: () => ClientAuthentication; header?: string; body: Record<string, string> }> = {
  'basic (RFC 6749 §2.3.1)': {
    make: () => clientSecretBasic(ID, SECRET),
    // form-encode each part first: "client%3Aid+%C3%A9" : "s3cret+%2B%2F%26%3D%3A%C3%A9"
    header: `Basic ${btoa('client%3Aid+%C3%A9:s3cret+%2B%2F%26%3D%3A%C3%A9')}`,
    body: {},
  },
  'basic plain': {
    make: () => clientSecretBasicPlain(ID, SECRET),
    header: `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${ID}:${SECRET}`)))}`,
    body: {},
  },
  'secret in body': { make: () => clientSecretPost(ID, SECRET), body: { client_id: ID, client_secret: SECRET } },
  'public client': { make: () => noClientAuth(ID), body: { client_id: ID } },
};

const grants: Record<string, { run: (p: Profile) => Promise<TokenSet>; body: Record<string, string> }> = {
  authorization_code: {
    run: (p) => authorizationCodeGrant(p, { code: 'c0de', codeVerifier: 'v'.repeat(43), redirectUri: 'https://app.example/cb' }),
    body: { grant_type: 'authorization_code', code: 'c0de', code_verifier: 'v'.repeat(43), redirect_uri: 'https://app.example/cb' },
  },
  refresh_token: { run: (p) => refreshTokenGrant(p, 'rt-old'), body: { grant_type: 'refresh_token', refresh_token: 'rt-old' } },
  client_credentials: { run: (p) => clientCredentialsGrant(p, { scope: ['a', 'b'] }), body: { grant_type: 'client_credentials', scope: 'a b' } },
  password: {
    run: (p) => passwordGrant(p, { username: 'ann', password: 'pw &=' }, { scope: ['write'] }),
    body: { grant_type: 'password', username: 'ann', password: 'pw &=', scope: 'write' },
  },
};

function profile(clientAuth: ClientAuthentication, bodyEncoding: 'form' | 'json', fetch: Profile['fetch']): Profile {
  return { name: 'test', clientId: ID, tokenUrl: 'https://as.example/oauth/token', clientAuth, bodyEncoding, scopeSeparator: ' ', secrets: [SECRET], fetch };
}

function bodyOf(request: SeenRequest, encoding: 'form' | 'json'): Record<string, string> {
  return encoding === 'json' ? (JSON.parse(request.body) as Record<string, string>) : Object.fromEntries(new URLSearchParams(request.body));
}

describe('every grant × client authentication × body encoding sends exactly what the RFC says', () => {
  for (const [grantName, grant] of Object.entries(grants)) {
    for (const [authName, auth] of Object.entries(auths)) {
      for (const encoding of ['form', 'json'] as const) {
        it(`${grantName} with ${authName} as ${encoding}`, async () => {
          const mock = mockFetch(() => tokenAnswer());
          await grant.run(profile(auth.make(), encoding, mock.fetch));
          mock.expectCount(1);
          const request = mock.requests[0]!;
          expect(request.method).toBe('POST');
          expect(request.url).toBe('https://as.example/oauth/token');
          expect(request.redirect).toBe('manual');
          expect(request.headers.get('accept')).toBe('application/json');
          expect(request.headers.get('content-type')).toBe(encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded');
          expect(request.headers.get('authorization')).toBe(auth.header ?? null);
          expect(bodyOf(request, encoding)).toEqual({ ...grant.body, ...auth.body });
        });
      }
    }
  }
});

describe('client authentication encodings', () => {
  it('builds the instellix example header exactly', () => {
    const headers = new Headers();
    clientSecretBasicPlain('my_client_id', 'my_client_secret')({}, headers);
    expect(headers.get('authorization')).toBe('Basic bXlfY2xpZW50X2lkOm15X2NsaWVudF9zZWNyZXQ=');
  });

  it('agrees with plain Basic when nothing needs encoding', () => {
    const a = new Headers();
    const b = new Headers();
    clientSecretBasic('abc', 'def')({}, a);
    clientSecretBasicPlain('abc', 'def')({}, b);
    expect(a.get('authorization')).toBe(b.get('authorization'));
  });
});
