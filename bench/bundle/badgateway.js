// @badgateway/oauth2-client: generateCodeVerifier, authorizationCode.getAuthorizeUri and
// getTokenFromCodeRedirect (which checks state), and OAuth2Fetch, its token manager: it refreshes an
// expired token with single-flight and adds the bearer token to fetch().
import { OAuth2Client, OAuth2Fetch, generateCodeVerifier } from '@badgateway/oauth2-client';

const client = new OAuth2Client({
  server: 'https://as.example/',
  clientId: 'spa',
  authorizationEndpoint: '/authorize',
  tokenEndpoint: '/token',
});
const redirectUri = 'https://app.example/callback';

export async function login() {
  const codeVerifier = await generateCodeVerifier();
  const state = crypto.randomUUID();
  sessionStorage.setItem('tx', JSON.stringify({ codeVerifier, state }));
  location.assign(await client.authorizationCode.getAuthorizeUri({ redirectUri, state, codeVerifier, scope: ['api'] }));
}

let wrapper;

export async function callback() {
  const token = await client.authorizationCode.getTokenFromCodeRedirect(location.href, {
    redirectUri,
    ...JSON.parse(sessionStorage.getItem('tx')),
  });
  wrapper = new OAuth2Fetch({ client, getNewToken: () => null, getStoredToken: () => token });
}

export function accessToken() {
  return wrapper.getAccessToken();
}
