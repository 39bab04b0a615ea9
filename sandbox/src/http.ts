/** Headers every sandbox answer carries: nothing here may be cached (RFC 6749 §5.1 asks it of token answers). */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** A JSON answer with `Cache-Control: no-store`. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers },
  });
}

/** An answer with no body (204 and the like), still `no-store`. */
export function empty(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { ...NO_STORE, ...headers } });
}

/** A raw answer with the given content type, `no-store`; the faults use it for bodies that are not JSON. */
export function raw(body: string, status: number, contentType: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': contentType, ...NO_STORE, ...headers } });
}

/** 404 for a path no vendor has; never echoes the path. */
export function notFound(): Response {
  return json({ error: 'not_found', message: 'No sandbox route for this path' }, 404);
}

/** 405 with `Allow`, for a known path and a method it does not take. */
export function methodNotAllowed(allowed: readonly string[]): Response {
  return json({ error: 'method_not_allowed', message: 'Method not allowed for this path' }, 405, { allow: allowed.join(', ') });
}

/** The media type of a request (`type/subtype`, lowercased, parameters dropped), or '' when there is none. */
export function mediaType(request: Request): string {
  const header = request.headers.get('content-type') ?? '';
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}
