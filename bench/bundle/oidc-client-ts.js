// oidc-client-ts with UserManager, its documented SPA API: signinRedirect (PKCE, state, URL),
// signinRedirectCallback (code exchange), signinSilent (refresh with the refresh token). Metadata is
// given inline so no discovery request is needed. signinSilent has no single-flight of its own, so
// the user writes the small wrapper.
import { UserManager } from 'oidc-client-ts';

const manager = new UserManager({
  authority: 'https://as.example',
  client_id: 'spa',
  redirect_uri: 'https://app.example/callback',
  scope: 'api',
  automaticSilentRenew: false,
  metadata: {
    issuer: 'https://as.example',
    authorization_endpoint: 'https://as.example/authorize',
    token_endpoint: 'https://as.example/token',
  },
});

export const login = () => manager.signinRedirect();

export const callback = () => manager.signinRedirectCallback();

let flight;

export async function accessToken() {
  const user = await manager.getUser();
  if (!user.expired) return user.access_token;
  flight ??= manager.signinSilent().finally(() => {
    flight = undefined;
  });
  return (await flight).access_token;
}
