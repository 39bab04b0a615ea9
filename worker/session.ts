import { parseCookies } from './http/cookies.js';
import { SESSION_COOKIE } from './http/responses.js';

/** A new session id: 256 bits from the CSPRNG, base64url. It is a bearer secret: it goes only in the cookie. */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The linked session named by the request's `__Host-tg_session` cookie. */
export function sessionOf(request: Request): string | undefined {
  return parseCookies(request.headers.get('cookie')).get(SESSION_COOKIE);
}

/** A linked session lasts this long (seconds). */
export const SESSION_MAX_AGE = 30 * 24 * 3600;
