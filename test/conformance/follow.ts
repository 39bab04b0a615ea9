// Follows an oidc-provider authorization headlessly. Web-standard only (no node: imports), so the
// Worker's tests inside workerd use it as well as the Node conformance tests.

const MAX_REDIRECTS = 10;

/** Every redirect URI the test clients register (auth-server.ts): the flow stops at the first one reached. */
const REDIRECT_URIS: readonly string[] = [
  'http://127.0.0.1/callback',
  'http://127.0.0.1:8787/link/oidc/callback',
  'http://127.0.0.1:8787/callback',
];

function isExpired(attributes: readonly string[]): boolean {
  for (const attribute of attributes) {
    const eq = attribute.indexOf('=');
    const key = (eq === -1 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? '' : attribute.slice(eq + 1).trim();
    if (key === 'max-age' && Number(value) <= 0) return true;
    if (key === 'expires' && Date.parse(value) <= Date.now()) return true;
  }
  return false;
}

// All cookies go to every request regardless of Path: the jar lives for one
// authorization on one origin, and oidc-provider tolerates extra cookies.
function storeCookies(jar: Map<string, string>, headers: Headers): void {
  for (const line of headers.getSetCookie()) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (value === '' || isExpired(attributes)) jar.delete(name);
    else jar.set(name, value);
  }
}

function cookieHeader(jar: ReadonlyMap<string, string>): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** The Worker's BFF callback of any vendor in its tests (`/link/oidc-jwt/callback`, ...). */
const WORKER_LINK_CALLBACK = /^\/link\/[a-z][a-z0-9-]*\/callback$/;

function isRedirectUri(url: URL): boolean {
  if (url.origin === 'http://127.0.0.1:8787' && WORKER_LINK_CALLBACK.test(url.pathname)) return true;
  return REDIRECT_URIS.some((uri) => {
    const expected = new URL(uri);
    return url.origin === expected.origin && url.pathname === expected.pathname;
  });
}

/**
 * Follows an authorization URL headlessly, logging in the test user and
 * granting every requested scope, and returns the redirect to the client's
 * redirect_uri (with code, state and iss, or an error). Throws if the flow
 * stops anywhere else or takes more than 10 redirects.
 */
export async function followAuthorization(authorizeUrl: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = new URL(authorizeUrl);

  for (let redirects = 0; redirects < MAX_REDIRECTS; redirects += 1) {
    const headers = new Headers();
    if (jar.size > 0) headers.set('cookie', cookieHeader(jar));
    const response = await fetch(url, { redirect: 'manual', headers });
    storeCookies(jar, response.headers);

    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) {
      const body = await response.text();
      throw new Error(
        `authorization stopped at ${url.pathname} with HTTP ${response.status}: ${body.slice(0, 500)}`,
      );
    }
    await response.body?.cancel();

    const next = new URL(location, url);
    if (isRedirectUri(next)) return next.href;
    url = next;
  }

  throw new Error(`authorization did not reach a redirect URI within ${MAX_REDIRECTS} redirects`);
}
