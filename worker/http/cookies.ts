/** Cookies read from one Cookie header at most; the rest are ignored. */
export const MAX_COOKIES = 50;
/** Characters of a Cookie header read at most (8 KiB); a pair that crosses the limit is ignored. */
export const MAX_COOKIE_HEADER_LENGTH = 8192;
/** Longest `name=value` serialized; browsers drop larger cookies silently (RFC 6265 §6.1 asks for at least 4096). */
export const MAX_COOKIE_PAIR_LENGTH = 4096;

/** The prefix every cookie the Worker sets carries: Secure, Path=/, no Domain, enforced by browsers. */
export const HOST_PREFIX = '__Host-';

/** RFC 9110 §5.6.2 token: what a cookie name may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 §4.1.1 cookie-octet: visible ASCII except `"`, `,`, `;` and `\`. */
const COOKIE_OCTETS = /^[\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]*$/;
const OUR_NAME = /^[A-Za-z0-9_-]+$/;
/** `__Host-` and `__Secure-` are matched case-insensitively by browsers (RFC 6265bis §4.1.3). */
const PREFIXED = /^__(host|secure)-/i;

function trimWhitespace(text: string): string {
  return text.replace(/^[\t ]+|[\t ]+$/g, '');
}

/**
 * The cookies of a `Cookie` request header, name → value. Tolerant, as RFC 6265 §5.4 lets a server
 * be: pairs without `=`, with an empty or non-token name, or with a value that is not cookie-octets
 * (after removing one pair of surrounding double quotes) are skipped; whitespace around names and
 * values is trimmed; values are returned as sent, not percent-decoded (the Worker's own values are
 * cookie-octets already). The first occurrence of a name wins: browsers send the most specific cookie
 * first, and a `__Host-` cookie cannot be shadowed by one set for a parent domain. At most
 * {@link MAX_COOKIES} cookies and {@link MAX_COOKIE_HEADER_LENGTH} characters are read. Never throws.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-5.4
 */
export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  if (typeof header !== 'string' || header === '') return cookies;
  let offset = 0;
  for (const pair of header.split(';')) {
    const end = offset + pair.length;
    offset = end + 1;
    if (end > MAX_COOKIE_HEADER_LENGTH || cookies.size >= MAX_COOKIES) break;
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    const name = trimWhitespace(pair.slice(0, equals));
    let value = trimWhitespace(pair.slice(equals + 1));
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!TOKEN.test(name) || !COOKIE_OCTETS.test(value) || cookies.has(name)) continue;
    cookies.set(name, value);
  }
  return cookies;
}

/**
 * `__Host-<name>`: the name the browser sends back for a cookie set with `name`.
 *
 * @throws {TypeError} when `name` is not `[A-Za-z0-9_-]+` or already carries a `__Host-` / `__Secure-` prefix.
 */
export function hostCookieName(name: string): string {
  if (!OUR_NAME.test(name)) throw new TypeError('A cookie name must be letters, digits, "_" or "-"');
  if (PREFIXED.test(name)) throw new TypeError('Give the cookie name without a prefix: __Host- is added');
  return `${HOST_PREFIX}${name}`;
}

/** Options of {@link serializeHostCookie}. */
export interface HostCookieOptions {
  /** Seconds, a non-negative integer; without it the cookie ends with the browser session. */
  readonly maxAge?: number;
  /** `Strict` for the session cookie, `Lax` for the login-transaction cookie (it must survive the vendor's redirect back). */
  readonly sameSite: 'Strict' | 'Lax';
}

/**
 * A `Set-Cookie` value that always has the `__Host-` prefix (added here: pass `session`, get
 * `__Host-session`), `Path=/`, `Secure`, `HttpOnly`, the given `SameSite`, and never a Domain
 * (SECURITY row 8). The prefix makes the browser itself refuse the cookie unless it is Secure, has
 * Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite it.
 *
 * @throws {TypeError} for a bad name (see {@link hostCookieName}), a value that is not cookie-octets,
 *   a pair longer than {@link MAX_COOKIE_PAIR_LENGTH}, or a `maxAge` that is not a non-negative integer.
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-4.1
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2
 */
export function serializeHostCookie(name: string, value: string, options: HostCookieOptions): string {
  const fullName = hostCookieName(name);
  // The message never contains the value: it is usually a session id.
  if (!COOKIE_OCTETS.test(value)) throw new TypeError('A cookie value must be cookie-octets (visible ASCII except " , ; \\)');
  if (fullName.length + 1 + value.length > MAX_COOKIE_PAIR_LENGTH) throw new TypeError('The cookie is too large for browsers to keep');
  if (options.sameSite !== 'Strict' && options.sameSite !== 'Lax') throw new TypeError('SameSite must be Strict or Lax');
  let cookie = `${fullName}=${value}; Path=/`;
  if (options.maxAge !== undefined) {
    if (!Number.isSafeInteger(options.maxAge) || options.maxAge < 0) throw new TypeError('Max-Age must be a non-negative integer');
    cookie += `; Max-Age=${options.maxAge}`;
  }
  return `${cookie}; Secure; HttpOnly; SameSite=${options.sameSite}`;
}

/** A `Set-Cookie` value that deletes the `__Host-<name>` cookie: empty value, `Max-Age=0`, the same attributes. */
export function clearHostCookie(name: string, sameSite: 'Strict' | 'Lax'): string {
  return serializeHostCookie(name, '', { maxAge: 0, sameSite });
}
