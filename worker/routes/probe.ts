import { parseCookies, serializeHostCookie } from '../http/cookies.js';
import { json } from '../http/responses.js';

/** The probe's cookie name without its prefix; the browser sends it back as `__Host-tg_probe`. */
const PROBE_COOKIE_NAME = 'tg_probe';
const PROBE_COOKIE = `__Host-${PROBE_COOKIE_NAME}`;

/**
 * `GET /session/probe`: can this page keep a session with the Worker? The answer says whether the
 * probe cookie came with the request, and sets it when it did not. The cookie has the session
 * cookie's attributes (`__Host-`, Secure, HttpOnly, `SameSite=Strict`), so it comes back on the second
 * probe exactly when the session cookie would: from a page of the Worker's own site, never from a
 * page of another site (SameSite, and third-party cookie blocking). Costs no vendor call, no Durable
 * Object and no KV write; it holds nothing but `1` for a minute.
 */
export function handleProbe(request: Request): Response {
  const came = parseCookies(request.headers.get('cookie')).get(PROBE_COOKIE) === '1';
  const headers = new Headers();
  if (!came) headers.append('set-cookie', serializeHostCookie(PROBE_COOKIE_NAME, '1', { sameSite: 'Strict', maxAge: 60 }));
  return json({ cookie: came }, 200, headers);
}
