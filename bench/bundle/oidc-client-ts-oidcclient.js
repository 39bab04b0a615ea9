// oidc-client-ts with OidcClient, its lower-level documented API: createSigninRequest (PKCE, state,
// URL; the state is kept in its state store), processSigninResponse (code exchange), useRefreshToken,
// and the small single-flight wrapper a user writes.
import { OidcClient } from 'oidc-client-ts';

const client = new OidcClient({
  authority: 'https://as.example',
  client_id: 'spa',
  redirect_uri: 'https://app.example/callback',
  scope: 'api',
  metadata: {
    issuer: 'https://as.example',
    authorization_endpoint: 'https://as.example/authorize',
    token_endpoint: 'https://as.example/token',
  },
});

export async function login() {
  location.assign((await client.createSigninRequest({})).url);
}

let tokens;
let flight;

export async function callback() {
  tokens = await client.processSigninResponse(location.href);
}

export async function accessToken() {
  if (tokens.expires_at <= Date.now() / 1000) {
    flight ??= client
      .useRefreshToken({ state: { refresh_token: tokens.refresh_token, scope: tokens.scope, data: tokens.userState, profile: tokens.profile, session_state: tokens.session_state } })
      .then((fresh) => {
        tokens = fresh;
      })
      .finally(() => {
        flight = undefined;
      });
    await flight;
  }
  return tokens.access_token;
}
