// oauth4webapi: its PKCE, state, URL building by hand as its README shows, validateAuthResponse +
// authorizationCodeGrantRequest + processAuthorizationCodeResponse, and the small single-flight
// refresh wrapper a user writes (oauth4webapi has no token manager).
import * as oauth from 'oauth4webapi';

const as = {
  issuer: 'https://as.example',
  authorization_endpoint: 'https://as.example/authorize',
  token_endpoint: 'https://as.example/token',
};
const client = { client_id: 'spa' };
const clientAuth = oauth.None();
const redirectUri = 'https://app.example/callback';

export async function login() {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'api');
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  sessionStorage.setItem('tx', JSON.stringify({ verifier, state }));
  location.assign(url.href);
}

let tokens;
let expiresAt;
let flight;

function keep(response) {
  tokens = response;
  expiresAt = Date.now() + (response.expires_in ?? Infinity) * 1000;
}

export async function callback() {
  const { verifier, state } = JSON.parse(sessionStorage.getItem('tx'));
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, verifier);
  keep(await oauth.processAuthorizationCodeResponse(as, client, response));
}

export async function accessToken() {
  if (Date.now() >= expiresAt) {
    flight ??= oauth
      .refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token)
      .then((response) => oauth.processRefreshTokenResponse(as, client, response))
      .then(keep)
      .finally(() => {
        flight = undefined;
      });
    await flight;
  }
  return tokens.access_token;
}
