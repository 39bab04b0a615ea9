// tokengate: PKCE + authorization URL (startAuthorization), code exchange with the verifier
// (completeAuthorization, which also checks redirect URI, state and iss), and a token source that
// refreshes with single-flight on expiry (createTokenSource).
import { completeAuthorization, createTokenSource, startAuthorization } from '../../src/index.ts';
import { oauth2 } from '../../src/profiles/index.ts';

const profile = oauth2({
  clientId: 'spa',
  authorizeUrl: 'https://as.example/authorize',
  tokenUrl: 'https://as.example/token',
  scope: 'api',
});

export async function login() {
  // startAuthorization makes the PKCE pair (createPkce) and the state, and builds the URL.
  const transaction = await startAuthorization(profile, { redirectUri: 'https://app.example/callback' });
  sessionStorage.setItem('tx', JSON.stringify(transaction));
  location.assign(transaction.url);
}

let source;

export async function callback() {
  const tokens = await completeAuthorization(profile, JSON.parse(sessionStorage.getItem('tx')), location.href);
  source = createTokenSource(profile, { tokens });
}

export async function accessToken() {
  return (await source.getToken()).accessToken;
}
