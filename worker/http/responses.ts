/** The linked session: `__Host-tg_session`, SameSite=Strict (SECURITY.md row 8). */
export const SESSION_COOKIE = '__Host-tg_session';
/** A login transaction between /link/start and its callback: `__Host-tg_link`, SameSite=Lax. */
export const LINK_COOKIE = '__Host-tg_link';
/** The cookie names without the prefix, for serializeHostCookie (which adds it). */
export const SESSION_COOKIE_NAME = 'tg_session';
export const LINK_COOKIE_NAME = 'tg_link';

/** JSON with `Cache-Control: no-store`: every answer of the Worker may carry a token or an error about one. */
export function json(body: unknown, status = 200, headers: Headers = new Headers()): Response {
  headers.set('content-type', 'application/json; charset=utf-8');
  headers.set('cache-control', 'no-store');
  headers.set('x-content-type-options', 'nosniff');
  return new Response(JSON.stringify(body), { status, headers });
}

/** `{ error, message }` with a stable snake_case `error` code. */
export function errorResponse(status: number, error: string, message: string, headers: Headers = new Headers(), extra: Record<string, string> = {}): Response {
  return json({ error, message, ...extra }, status, headers);
}

/** 429 with Retry-After (seconds), for the Worker's own rate limits (SECURITY row 19). */
export function tooManyRequests(retryAfter: number, headers: Headers = new Headers()): Response {
  headers.set('retry-after', String(retryAfter));
  return errorResponse(429, 'rate_limited', 'Too many requests; retry later', headers);
}
