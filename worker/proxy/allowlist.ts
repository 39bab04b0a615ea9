/** Methods a route may allow. HEAD comes with GET; OPTIONS is the CORS preflight, answered before the allowlist. */
export type ProxyMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route: anyone (`public`), a browser with a linked-account session cookie
 * (`session`), or a server caller with an API key (`key`).
 */
export type RouteAccess = 'public' | 'session' | 'key';

/** One allow-listed route, as configured in `wrangler.toml`. */
export interface ProxyRoute {
  readonly method: ProxyMethod;
  /** `/v2/orders`, `/v2/orders/:id`, `/api/v3/product/:id`: literal segments and `:name` parameters, nothing else. */
  readonly path: string;
  readonly access: RouteAccess;
}

/** A path and method the allowlist admits: the route and its parameters, decoded (they are unreserved characters only). */
export interface AllowlistHit {
  readonly route: ProxyRoute;
  readonly params: Readonly<Record<string, string>>;
}

/** A path no route has (404), or a path some route has with another method (405 with `Allow`). */
export type AllowlistMiss =
  | { readonly error: 'NOT_FOUND' }
  | { readonly error: 'METHOD_NOT_ALLOWED'; readonly allowed: string[] };

export interface Allowlist {
  readonly routes: readonly ProxyRoute[];
  /**
   * The route for `method` and `path`. `path` is what {@link checkProxyPath} returned, without the
   * query. Methods are case-sensitive (RFC 9110 §9.1): `Request` already upper-cases the standard
   * ones except PATCH, and a lower-case `patch` is refused like an unknown method.
   */
  match(method: string, path: string): AllowlistHit | AllowlistMiss;
  /** Every method some route allows for `path` (HEAD wherever GET is), in a fixed order; `[]` when none. */
  allowedMethods(path: string): string[];
}

const METHODS: readonly ProxyMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ACCESS: readonly RouteAccess[] = ['public', 'session', 'key'];
/** The order of `Allow` and of `allowed`. */
const METHOD_ORDER: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

const LITERAL = /^[A-Za-z0-9._~-]+$/;
const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;
/** One path segment of unreserved characters and escapes; the escapes are checked for unreserved after decoding. */
const PARAM_VALUE = /^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$/;
const UNRESERVED = /^[A-Za-z0-9._~-]+$/;

type Segment = { readonly literal: string } | { readonly param: string };

interface CompiledRoute {
  readonly route: ProxyRoute;
  readonly segments: readonly Segment[];
  /** Literal positions as a bit string, left first: `'101'` beats `'100'` beats `'011'`. */
  readonly specificity: string;
}

function invalid(index: number, why: string): never {
  throw new Error(`Proxy route ${index} is invalid: ${why}`);
}

/** `'/'` is the root (no segments); otherwise the segments between the slashes. */
function splitPath(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

function compileRoute(value: unknown, index: number): CompiledRoute {
  if (typeof value !== 'object' || value === null) invalid(index, 'not an object');
  const { method, path, access } = value as Record<string, unknown>;
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
    invalid(index, `method must be one of ${METHODS.join(', ')}`);
  }
  if (typeof access !== 'string' || !(ACCESS as readonly string[]).includes(access)) {
    invalid(index, `access must be one of ${ACCESS.join(', ')}`);
  }
  if (typeof path !== 'string' || !path.startsWith('/')) invalid(index, "path must start with '/'");
  const names = new Set<string>();
  const segments = splitPath(path).map((text, position): Segment => {
    const param = PARAM.exec(text)?.[1];
    if (param !== undefined) {
      if (names.has(param)) invalid(index, `parameter :${param} appears twice`);
      names.add(param);
      return { param };
    }
    if (text === '') invalid(index, `segment ${position + 1} is empty (double or trailing slash)`);
    if (text === '.' || text === '..') invalid(index, `segment ${position + 1} is a dot segment`);
    if (!LITERAL.test(text)) {
      invalid(index, `segment ${position + 1} must be letters, digits, '.', '_', '~', '-' or a :name parameter (no wildcards)`);
    }
    return { literal: text };
  });
  const route: ProxyRoute = { method: method as ProxyMethod, path, access: access as RouteAccess };
  return { route, segments, specificity: segments.map((s) => ('literal' in s ? '1' : '0')).join('') };
}

/** The shape two routes collide on: same segment count, same literals, parameters in the same places. */
function shape(compiled: CompiledRoute): string {
  return `${compiled.route.method} ${compiled.segments.map((s) => ('literal' in s ? `/${s.literal}` : '/:')).join('')}`;
}

/** The decoded parameter value, or undefined when the segment is not one a parameter may take. */
function paramValue(segment: string): string | undefined {
  if (!PARAM_VALUE.test(segment)) return undefined;
  // Only single-byte escapes of unreserved characters pass, so decoding cannot fail or add structure.
  const decoded = segment.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  if (!UNRESERVED.test(decoded) || decoded === '.' || decoded === '..') return undefined;
  return decoded;
}

function matchSegments(compiled: CompiledRoute, parts: readonly string[]): Record<string, string> | undefined {
  if (compiled.segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of compiled.segments.entries()) {
    const part = parts[i] ?? '';
    if ('literal' in segment) {
      if (part !== segment.literal) return undefined;
    } else {
      const value = paramValue(part);
      if (value === undefined) return undefined;
      params[segment.param] = value;
    }
  }
  return params;
}

/**
 * Checks the configured routes and returns the matcher the proxy asks before any upstream call.
 * Matching is whole-path (exact segment count, no prefixes, no wildcards); literal segments compare
 * case-sensitively and byte for byte, so `/v2/%6Frders` is not `/v2/orders`. When several routes
 * match, the most specific wins: a literal beats a parameter at the first position where they differ
 * (so `/v2/orders/summary` is not swallowed by `/v2/orders/:id`, whatever the configuration order).
 *
 * @throws {Error} naming the route's index and what is wrong with it; also for two routes of the
 *   same method and shape (`/a/:x` and `/a/:y`), which would make the access level depend on order.
 */
export function compileAllowlist(routes: readonly ProxyRoute[]): Allowlist {
  if (!Array.isArray(routes)) throw new Error('Proxy routes must be an array');
  const compiled = routes.map((route, index) => compileRoute(route, index));
  const seen = new Map<string, number>();
  for (const [index, entry] of compiled.entries()) {
    const key = shape(entry);
    const first = seen.get(key);
    if (first !== undefined) invalid(index, `same method and path shape as route ${first}`);
    seen.set(key, index);
  }
  // Most specific first, so the first hit is the answer.
  const ordered = [...compiled].sort((a, b) => (a.specificity < b.specificity ? 1 : a.specificity > b.specificity ? -1 : 0));
  const frozen = Object.freeze(compiled.map((entry) => Object.freeze(entry.route)));

  const hits = (path: string): { compiled: CompiledRoute; params: Record<string, string> }[] => {
    if (!path.startsWith('/')) return [];
    const parts = splitPath(path);
    const found: { compiled: CompiledRoute; params: Record<string, string> }[] = [];
    for (const entry of ordered) {
      const params = matchSegments(entry, parts);
      if (params !== undefined) found.push({ compiled: entry, params });
    }
    return found;
  };

  const allowedMethods = (path: string): string[] => {
    const methods = new Set<string>(hits(path).map((hit) => hit.compiled.route.method));
    if (methods.has('GET')) methods.add('HEAD');
    return METHOD_ORDER.filter((method) => methods.has(method));
  };

  return {
    routes: frozen,
    allowedMethods,
    match(method: string, path: string): AllowlistHit | AllowlistMiss {
      const found = hits(path);
      if (found.length === 0) return { error: 'NOT_FOUND' };
      const wanted = method === 'HEAD' ? 'GET' : method;
      const hit = found.find((entry) => entry.compiled.route.method === wanted);
      if (hit === undefined) return { error: 'METHOD_NOT_ALLOWED', allowed: allowedMethods(path) };
      return { route: hit.compiled.route, params: hit.params };
    },
  };
}
