// arctic: its generic OAuth2Client with PKCE (createAuthorizationURLWithPKCE, validateAuthorizationCode,
// refreshAccessToken), the state check by hand as its docs ask, and the small single-flight refresh
// wrapper a user writes (arctic has no token manager).
import { CodeChallengeMethod, OAuth2Client, generateCodeVerifier, generateState } from 'arctic';

const client = new OAuth2Client('spa', null, 'https://app.example/callback');

export async function login() {
  const state = generateState();
  const verifier = generateCodeVerifier();
  const url = client.createAuthorizationURLWithPKCE('https://as.example/authorize', state, CodeChallengeMethod.S256, verifier, ['api']);
  sessionStorage.setItem('tx', JSON.stringify({ verifier, state }));
  location.assign(url.href);
}

let tokens;
let flight;

export async function callback() {
  const { verifier, state } = JSON.parse(sessionStorage.getItem('tx'));
  const params = new URL(location.href).searchParams;
  if (params.get('state') !== state) throw new Error('state mismatch');
  tokens = await client.validateAuthorizationCode('https://as.example/token', params.get('code'), verifier);
}

export async function accessToken() {
  if (Date.now() >= tokens.accessTokenExpiresAt().getTime()) {
    flight ??= client
      .refreshAccessToken('https://as.example/token', tokens.refreshToken(), [])
      .then((fresh) => {
        tokens = fresh;
      })
      .finally(() => {
        flight = undefined;
      });
    await flight;
  }
  return tokens.accessToken();
}
