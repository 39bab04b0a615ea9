import fc from 'fast-check';
import { isTokenGateError } from 'tokengate';
import { describe, expect, it } from 'vitest';
import { clearHostCookie, hostCookieName, MAX_COOKIES, parseCookies, serializeHostCookie } from '../../worker/http/cookies.js';
import { compileAllowlist, type ProxyMethod, type ProxyRoute } from '../../worker/proxy/allowlist.js';
import { checkBrowserCsrf, corsFields, corsHeaders, EXPOSED_RESPONSE_HEADERS, preflight } from '../../worker/proxy/cors.js';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../worker/proxy/headers.js';
import { checkProxyPath, ProxyPathError, type ProxyPathErrorCode } from '../../worker/proxy/path.js';

const UPSTREAM = 'https://upstream.example';
const RUNS = { numRuns: 500 };

function codeOf(input: string): ProxyPathErrorCode | 'ACCEPTED' {
  try {
    checkProxyPath(input);
    return 'ACCEPTED';
  } catch (error) {
    if (error instanceof ProxyPathError) return error.code;
    throw error;
  }
}

function keys(headers: Headers): string[] {
  return [...headers.keys()].sort();
}

// ---------------------------------------------------------------------------------------------
// path.ts — docs/security.md row 10
// ---------------------------------------------------------------------------------------------

describe('checkProxyPath refuses every trick of docs/security.md row 10 with its code', () => {
  const tricks: [string, ProxyPathErrorCode][] = [
    // absolute URLs
    ['https://evil.example/steal', 'ABSOLUTE_URL'],
    ['http://evil.example', 'ABSOLUTE_URL'],
    ['javascript:alert(1)', 'ABSOLUTE_URL'],
    ['/https://evil.example/x', 'ABSOLUTE_URL'],
    ['/http:evil.example', 'ABSOLUTE_URL'],
    ['/file:/etc/passwd', 'ABSOLUTE_URL'],
    ['/gopher:x', 'ABSOLUTE_URL'],
    // not a path at all
    ['', 'RELATIVE_PATH'],
    ['evil.example/x', 'RELATIVE_PATH'],
    ['?x=1', 'RELATIVE_PATH'],
    // protocol-relative
    ['//evil.example/x', 'PROTOCOL_RELATIVE'],
    ['///evil.example', 'PROTOCOL_RELATIVE'],
    // dot segments, raw and encoded in any case
    ['/v2/../admin', 'DOT_SEGMENT'],
    ['/v2/./orders', 'DOT_SEGMENT'],
    ['/..', 'DOT_SEGMENT'],
    ['/v2/orders/..', 'DOT_SEGMENT'],
    ['/v2/%2e%2e/admin', 'DOT_SEGMENT'],
    ['/v2/%2E%2E/admin', 'DOT_SEGMENT'],
    ['/v2/%2E./admin', 'DOT_SEGMENT'],
    ['/v2/.%2e/admin', 'DOT_SEGMENT'],
    ['/v2/%2e/orders', 'DOT_SEGMENT'],
    ['/v2/..;jsessionid=1/admin', 'DOT_SEGMENT'],
    ['/v2/%EF%BC%8E%EF%BC%8E/admin', 'DOT_SEGMENT'], // fullwidth full stops, NFKC-folded to '..'
    ['/v2/%E2%80%A5/admin', 'DOT_SEGMENT'], // two dot leader
    // encoded dot elsewhere
    ['/v2/%2eenv', 'ENCODED_DOT'],
    ['/v2/orders%2Ejson', 'ENCODED_DOT'],
    // encoded slashes
    ['/v2/orders%2f..%2fadmin', 'ENCODED_SLASH'],
    ['/v2/a%2Fb', 'ENCODED_SLASH'],
    ['/v2/%EF%BC%8Fadmin', 'ENCODED_SLASH'], // fullwidth solidus
    // backslashes
    ['/v2\\..\\admin', 'BACKSLASH'],
    ['/\\evil.example', 'BACKSLASH'],
    ['/v2/a%5cb', 'BACKSLASH'],
    ['/v2/a%5Cb', 'BACKSLASH'],
    // @ anywhere
    ['/@evil.example', 'AT_SIGN'],
    ['/v2/user@evil.example', 'AT_SIGN'],
    ['/v2/%40evil.example', 'AT_SIGN'],
    ['/v2/a%EF%BC%A0b', 'AT_SIGN'], // fullwidth commercial at
    // control characters, raw or encoded
    ['/v2/orders\u0000', 'CONTROL_CHAR'],
    ['/v2/or\tders', 'CONTROL_CHAR'],
    ['/v2/orders\r\nHost: evil', 'CONTROL_CHAR'],
    ['/v2/orders\u007f', 'CONTROL_CHAR'],
    ['/v2/orders?x=\n', 'CONTROL_CHAR'],
    ['/v2/orders%00', 'CONTROL_CHAR'],
    ['/v2/orders%0d%0aHost:%20evil', 'CONTROL_CHAR'],
    ['/v2/orders%1F', 'CONTROL_CHAR'],
    ['/v2/orders%7f', 'CONTROL_CHAR'],
    // double slashes and trailing slash
    ['/v2//orders', 'EMPTY_SEGMENT'],
    ['/v2/orders/', 'EMPTY_SEGMENT'],
    // length
    [`/${'a'.repeat(2048)}`, 'TOO_LONG'],
    [`/v2/orders?${'q'.repeat(4097)}`, 'TOO_LONG'],
    // malformed encoding
    ['/v2/orders%', 'BAD_ENCODING'],
    ['/v2/orders%2', 'BAD_ENCODING'],
    ['/v2/orders%zz', 'BAD_ENCODING'],
    ['/v2/%c0%ae%c0%ae/admin', 'BAD_ENCODING'], // overlong UTF-8 for '.'
    ['/v2/%ed%a0%80', 'BAD_ENCODING'], // lone surrogate
    ['/v2/orders?x=%g1', 'BAD_ENCODING'],
    // double encoding
    ['/v2/%252e%252e/admin', 'DOUBLE_ENCODING'],
    // characters a serialized URL never has raw
    ['/v2/or ders', 'BAD_CHARACTER'],
    ['/v2/orders#frag', 'BAD_CHARACTER'],
    ['/v2/<script>', 'BAD_CHARACTER'],
    ['/v2/ördérs', 'BAD_CHARACTER'],
    ['/v2/orders?q=a b', 'BAD_CHARACTER'],
    ['/v2/orders?q=<x>', 'BAD_CHARACTER'],
  ];

  for (const [input, code] of tricks) {
    it(`${JSON.stringify(input.length > 60 ? `${input.slice(0, 40)}…` : input)} → ${code}`, () => {
      expect(codeOf(input)).toBe(code);
    });
  }

  it('throws a TokenGateError with status 400 and a message that does not echo the path', () => {
    const canary = '/v2/CANARY-1234/../admin';
    try {
      checkProxyPath(canary);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProxyPathError);
      expect(isTokenGateError(error)).toBe(true);
      expect((error as ProxyPathError).status).toBe(400);
      expect((error as ProxyPathError).message).not.toContain('CANARY');
    }
  });

  it('still matters after workerd serializes request.url: what survives serialization is refused', () => {
    // workerd resolves dot segments (even %2e%2e) and turns \ into / when it parses a request URL, …
    expect(new Request('https://edge.example/api/v/a/%2e%2e/x').url).toBe('https://edge.example/api/v/x');
    // … but encoded slashes, @, controls and empty segments survive, and are what the checker sees.
    for (const [url, code] of [
      ['https://edge.example/api/v/a%2fb', 'ENCODED_SLASH'],
      ['https://edge.example/api/v/%40evil', 'AT_SIGN'],
      ['https://edge.example/api/v/a%00', 'CONTROL_CHAR'],
      ['https://edge.example/api/v//evil.example/x', 'PROTOCOL_RELATIVE'],
    ] as const) {
      const raw = new Request(url).url.slice('https://edge.example/api/v'.length);
      expect(codeOf(raw)).toBe(code);
    }
  });
});

describe('checkProxyPath lets allowed paths through unchanged', () => {
  const allowed: [string, string, string][] = [
    ['/v2/orders', '/v2/orders', ''],
    ['/v2/orders/ORD-123_a.b~c', '/v2/orders/ORD-123_a.b~c', ''],
    ['/api/v3/product/42?expand=items&limit=10', '/api/v3/product/42', '?expand=items&limit=10'],
    ['/v2/orders?filter[status]=open|closed', '/v2/orders', '?filter[status]=open|closed'],
    ['/v2/orders?next=%2Fv2%2Forders%3Fpage%3D2', '/v2/orders', '?next=%2Fv2%2Forders%3Fpage%3D2'], // query is data
    ['/v2/orders?', '/v2/orders', ''],
    ['/v2/%41BC', '/v2/%41BC', ''], // escaped unreserved: kept as is
    ['/v2/caf%C3%A9', '/v2/caf%C3%A9', ''], // UTF-8 escapes: kept as is
    ['/v1/orders:batchGet', '/v1/orders:batchGet', ''], // ':' after the first segment
    ['/v2/a;b=c', '/v2/a;b=c', ''],
    ['/v2/.well-known', '/v2/.well-known', ''],
    ['/v2/...', '/v2/...', ''],
    ['/', '/', ''],
    [`/${'a'.repeat(2047)}`, `/${'a'.repeat(2047)}`, ''],
  ];
  for (const [input, path, search] of allowed) {
    it(`${JSON.stringify(input.length > 60 ? `${input.slice(0, 40)}…` : input)}`, () => {
      expect(checkProxyPath(input)).toEqual({ path, search });
      expect(new URL(path + search, UPSTREAM).origin).toBe(UPSTREAM);
      expect(new URL(path, UPSTREAM).pathname).toBe(path);
    });
  }
});

describe('checkProxyPath properties', () => {
  const trickyChars = ['.', '%', '/', '\\', '@', ':', '?', ';', '#', ' ', '2', 'e', 'E', 'f', 'F', '5', 'c', 'C', '0', '4', '1', 'a', 'x', 'h', 't', 'p', 's'];
  const tricky = fc.string({ unit: fc.constantFrom(...trickyChars), maxLength: 40 });
  const escapeUnits = ['%2e', '%2E', '%2f', '%2F', '%5c', '%40', '%25', '%41', '%7e', '%c0', '%ae', '%00', '%EF%BC%8E', '.', '..', 'a', ';', ':'];
  const escapes = fc
    .array(fc.string({ unit: fc.constantFrom(...escapeUnits), minLength: 1, maxLength: 4 }), { maxLength: 5 })
    .map((segments) => `/${segments.join('/')}`);
  const anyInput = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.webPath(),
    fc.array(fc.webSegment(), { maxLength: 6 }).map((segments) => `/${segments.join('/')}`),
    escapes,
    tricky,
    tricky.map((text) => `/${text}`),
    fc.tuple(fc.webPath(), fc.webQueryParameters()).map(([path, query]) => `${path}?${query}`),
  );

  it('throws nothing but ProxyPathError, and whatever it accepts stays on the upstream origin with the path as is', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        let checked: { path: string; search: string };
        try {
          checked = checkProxyPath(input);
        } catch (error) {
          if (!(error instanceof ProxyPathError)) throw error;
          return;
        }
        expect(checked.path + checked.search).toBe(input.endsWith('?') && !input.slice(0, -1).includes('?') ? input.slice(0, -1) : input);
        const url = new URL(checked.path, UPSTREAM);
        expect(url.origin).toBe(UPSTREAM);
        expect(url.pathname).toBe(checked.path);
        const withQuery = new URL(checked.path + checked.search, UPSTREAM);
        expect(withQuery.origin).toBe(UPSTREAM);
        expect(withQuery.pathname).toBe(checked.path);
        for (const segment of checked.path.split('/').slice(1)) {
          expect(['.', '..']).not.toContain(decodeURIComponent(segment));
        }
        expect(checked.path).not.toMatch(/%2f|%5c|%40|%2e|@|\\/i);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// allowlist.ts
// ---------------------------------------------------------------------------------------------

const ROUTES: ProxyRoute[] = [
  { method: 'GET', path: '/v2/orders', access: 'session' },
  { method: 'POST', path: '/v2/orders', access: 'session' },
  { method: 'GET', path: '/v2/orders/:id', access: 'session' },
  { method: 'DELETE', path: '/v2/orders/:id', access: 'key' },
  { method: 'GET', path: '/v2/orders/summary', access: 'public' },
  { method: 'GET', path: '/api/v3/product/:id', access: 'public' },
  { method: 'PATCH', path: '/v2/orders/:id/items/:itemId', access: 'session' },
];

describe('compileAllowlist validates routes', () => {
  const bad: [unknown, RegExp][] = [
    [{ method: 'GET', path: 'v2/orders', access: 'public' }, /route 0.*start with '\/'/],
    [{ method: 'GET', path: '/v2/*', access: 'public' }, /route 0.*segment 2.*no wildcards/],
    [{ method: 'GET', path: '/v2/**', access: 'public' }, /route 0.*segment 2/],
    [{ method: 'GET', path: '/v2//orders', access: 'public' }, /route 0.*segment 2 is empty/],
    [{ method: 'GET', path: '/v2/orders/', access: 'public' }, /route 0.*segment 3 is empty/],
    [{ method: 'GET', path: '/v2/../orders', access: 'public' }, /route 0.*dot segment/],
    [{ method: 'GET', path: '/v2/%2e', access: 'public' }, /route 0.*segment 2/],
    [{ method: 'GET', path: '/v2/:', access: 'public' }, /route 0.*segment 2/],
    [{ method: 'GET', path: '/v2/:1id', access: 'public' }, /route 0.*segment 2/],
    [{ method: 'GET', path: '/v2/:id/:id', access: 'public' }, /route 0.*:id appears twice/],
    [{ method: 'GET', path: '/v2/orders?x=1', access: 'public' }, /route 0.*segment 2/],
    [{ method: 'OPTIONS', path: '/v2/orders', access: 'public' }, /route 0.*method/],
    [{ method: 'get', path: '/v2/orders', access: 'public' }, /route 0.*method/],
    [{ method: 'GET', path: '/v2/orders', access: 'admin' }, /route 0.*access/],
    [null, /route 0.*not an object/],
  ];
  for (const [route, message] of bad) {
    it(`refuses ${JSON.stringify(route)}`, () => {
      expect(() => compileAllowlist([route as ProxyRoute])).toThrow(message);
    });
  }

  it('names the index of the bad route', () => {
    expect(() => compileAllowlist([...ROUTES, { method: 'GET', path: '/v2/*', access: 'public' }])).toThrow(/route 7/);
  });

  it('refuses two routes of the same method and shape', () => {
    expect(() =>
      compileAllowlist([
        { method: 'GET', path: '/v2/orders/:id', access: 'public' },
        { method: 'GET', path: '/v2/orders/:orderId', access: 'session' },
      ]),
    ).toThrow(/route 1.*same method and path shape as route 0/);
  });
});

describe('allowlist.match', () => {
  const allowlist = compileAllowlist(ROUTES);

  it('matches literal routes and parameter routes, with decoded parameters', () => {
    expect(allowlist.match('GET', '/v2/orders')).toEqual({ route: ROUTES[0], params: {} });
    expect(allowlist.match('POST', '/v2/orders')).toEqual({ route: ROUTES[1], params: {} });
    expect(allowlist.match('GET', '/v2/orders/ORD-1')).toEqual({ route: ROUTES[2], params: { id: 'ORD-1' } });
    expect(allowlist.match('GET', '/v2/orders/%41%62c')).toEqual({ route: ROUTES[2], params: { id: 'Abc' } });
    expect(allowlist.match('PATCH', '/v2/orders/7/items/x.y~z')).toEqual({ route: ROUTES[6], params: { id: '7', itemId: 'x.y~z' } });
  });

  it('prefers a literal over a parameter, whatever the configuration order', () => {
    expect(allowlist.match('GET', '/v2/orders/summary')).toMatchObject({ route: { access: 'public', path: '/v2/orders/summary' } });
    const reversed = compileAllowlist([...ROUTES].reverse());
    expect(reversed.match('GET', '/v2/orders/summary')).toMatchObject({ route: { path: '/v2/orders/summary' } });
    expect(reversed.match('GET', '/v2/orders/other')).toMatchObject({ route: { path: '/v2/orders/:id' } });
  });

  it('allows HEAD wherever GET is', () => {
    expect(allowlist.match('HEAD', '/v2/orders/1')).toEqual({ route: ROUTES[2], params: { id: '1' } });
    expect(allowlist.allowedMethods('/v2/orders/1')).toEqual(['GET', 'HEAD', 'DELETE']);
    expect(allowlist.match('HEAD', '/v2/orders/1/items/2')).toEqual({ error: 'METHOD_NOT_ALLOWED', allowed: ['PATCH'] });
  });

  it('answers METHOD_NOT_ALLOWED with the allowed methods for a known path', () => {
    expect(allowlist.match('PUT', '/v2/orders')).toEqual({ error: 'METHOD_NOT_ALLOWED', allowed: ['GET', 'HEAD', 'POST'] });
    expect(allowlist.match('OPTIONS', '/v2/orders')).toEqual({ error: 'METHOD_NOT_ALLOWED', allowed: ['GET', 'HEAD', 'POST'] });
    expect(allowlist.match('patch', '/v2/orders/1/items/2')).toEqual({ error: 'METHOD_NOT_ALLOWED', allowed: ['PATCH'] });
  });

  it('answers NOT_FOUND for prefixes, extensions, other segment counts and encoded literals', () => {
    for (const path of [
      '/v2',
      '/v2/orders/1/items',
      '/v2/orders/1/extra',
      '/v2/orders/1/items/2/3',
      '/v2/ordersX',
      '/v2/Orders',
      '/v2/%6Frders',
      '/v3/orders',
      '/',
      '',
      'v2/orders',
      '/v2/orders/',
      '/v2//orders',
      '/v2/orders?x=1',
    ]) {
      expect(allowlist.match('GET', path), path).toEqual({ error: 'NOT_FOUND' });
    }
  });

  it('takes only unreserved characters (raw or escaped) as a parameter value', () => {
    for (const value of ['', '..', '.', '%2e%2e', '%2E', 'a%2fb', 'a%20b', 'a%40b', 'a@b', 'a:b', 'a;b', 'a%ZZ', '%C3%A9', 'é', 'a%25']) {
      expect(allowlist.match('GET', `/api/v3/product/${value}`), value).toEqual({ error: 'NOT_FOUND' });
    }
    expect(allowlist.match('GET', '/api/v3/product/...')).toMatchObject({ params: { id: '...' } });
    expect(allowlist.match('GET', '/api/v3/product/%7E')).toMatchObject({ params: { id: '~' } });
  });

  it('a root route matches only the root', () => {
    const root = compileAllowlist([{ method: 'GET', path: '/', access: 'public' }]);
    expect(root.match('GET', '/')).toMatchObject({ route: { path: '/' } });
    expect(root.match('GET', '/x')).toEqual({ error: 'NOT_FOUND' });
  });

  it('never admits a path its patterns do not match (property)', () => {
    const literal = fc.constantFrom('a', 'b', 'v2', 'orders', 'A', 'x.y');
    const patternSegment = fc.oneof(literal, fc.constantFrom(':p', ':q', ':r'));
    const method = fc.constantFrom<ProxyMethod>('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
    const route = fc.record({
      method,
      path: fc.array(patternSegment, { minLength: 0, maxLength: 4 }).map((segments) => {
        const seen = new Set<string>();
        return `/${segments.map((s) => (s.startsWith(':') ? (seen.has(s) ? s.replace(':', 'lit') : (seen.add(s), s)) : s)).join('/')}`;
      }),
      access: fc.constantFrom('public' as const, 'session' as const, 'key' as const),
    });
    const routes = fc.array(route, { maxLength: 8 }).map((list) => {
      const shapes = new Set<string>();
      return list.filter((r) => {
        const key = `${r.method} ${r.path.replace(/:[a-z]+/g, ':')}`;
        if (shapes.has(key)) return false;
        shapes.add(key);
        return true;
      });
    });
    const pathSegment = fc.constantFrom('a', 'b', 'v2', 'orders', 'A', 'x.y', '%41', '%61', '..', '.', '', '%2F', '%2e', 'a b', 'a@b', 'ORD-1', 'lit', '%C3%A9');
    const path = fc.oneof(
      fc.array(pathSegment, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
      fc.string({ maxLength: 20 }),
    );
    const requestMethod = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get');

    const paramOk = (segment: string): boolean => {
      if (!/^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$/.test(segment)) return false;
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return false;
      }
      return /^[A-Za-z0-9._~-]+$/.test(decoded) && decoded !== '.' && decoded !== '..';
    };
    const oracle = (pattern: string, candidate: string): boolean => {
      if (!candidate.startsWith('/')) return false;
      const want = pattern === '/' ? [] : pattern.slice(1).split('/');
      const have = candidate === '/' ? [] : candidate.slice(1).split('/');
      return want.length === have.length && want.every((seg, i) => (seg.startsWith(':') ? paramOk(have[i] ?? '') : seg === have[i]));
    };

    fc.assert(
      fc.property(routes, path, requestMethod, (list, candidate, verb) => {
        const result = compileAllowlist(list).match(verb, candidate);
        const wanted = verb === 'HEAD' ? 'GET' : verb;
        if ('route' in result) {
          expect(result.route.method).toBe(wanted);
          const want = result.route.path === '/' ? [] : result.route.path.slice(1).split('/');
          const have = candidate === '/' ? [] : candidate.slice(1).split('/');
          expect(candidate.startsWith('/')).toBe(true);
          expect(have.length).toBe(want.length);
          want.forEach((seg, i) => {
            if (seg.startsWith(':')) {
              expect(paramOk(have[i] ?? '')).toBe(true);
              expect(result.params[seg.slice(1)]).toBe(decodeURIComponent(have[i] ?? ''));
            } else {
              expect(have[i]).toBe(seg);
            }
          });
        } else {
          // …and it finds every route that does match.
          expect(list.some((r) => r.method === wanted && oracle(r.path, candidate))).toBe(false);
          const anyMethod = list.some((r) => oracle(r.path, candidate));
          expect(result.error).toBe(anyMethod ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND');
        }
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// headers.ts — docs/security.md row 11
// ---------------------------------------------------------------------------------------------

describe('header hygiene', () => {
  it("drops the caller's credentials, proxy and forwarding headers and adds the bearer", () => {
    const incoming = new Headers({
      cookie: '__Host-session=abc',
      authorization: 'Bearer caller-token',
      'proxy-authorization': 'Basic eDp5',
      'proxy-connection': 'keep-alive',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=203.0.113.7',
      'cf-connecting-ip': '203.0.113.7',
      'cf-ipcountry': 'DE',
      'true-client-ip': '203.0.113.7',
      'x-real-ip': '203.0.113.7',
      host: 'edge.example',
      origin: 'https://shop.example',
      referer: 'https://shop.example/cart',
      'user-agent': 'Mozilla/5.0',
      'content-length': '5',
      'transfer-encoding': 'chunked',
      'accept-encoding': 'gzip',
      'x-tokengate-csrf': '1',
      'x-vendor-internal': 'yes',
      accept: 'application/json',
      'accept-language': 'de-DE',
      'content-type': 'application/json',
      'if-none-match': '"v1"',
      'if-match': '"v2"',
      'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT',
      'idempotency-key': 'idem-1',
      'x-request-id': 'req-1',
    });
    const upstream = new Headers(upstreamRequestHeaders(incoming, 'vendor-token.abc_123'));
    expect(keys(upstream)).toEqual(
      ['accept', 'accept-language', 'authorization', 'content-type', 'idempotency-key', 'if-match', 'if-modified-since', 'if-none-match', 'x-request-id'].sort(),
    );
    expect(upstream.get('authorization')).toBe('Bearer vendor-token.abc_123');
    expect(upstream.get('cookie')).toBeNull();
    expect(upstream.get('accept')).toBe('application/json');
    expect(incoming.get('authorization')).toBe('Bearer caller-token'); // the caller's Headers are not changed
  });

  it('an empty caller gets only the bearer', () => {
    expect(upstreamRequestHeaders(new Headers(), 'tok')).toEqual({ authorization: 'Bearer tok' });
  });

  it('refuses a bearer that could break the header, without echoing it', () => {
    for (const bad of ['', 'a b', 'tok\r\nx-evil: 1', 'tök']) {
      expect(() => upstreamRequestHeaders(new Headers(), bad)).toThrow(TypeError);
    }
    try {
      upstreamRequestHeaders(new Headers(), 'SECRET CANARY');
    } catch (error) {
      expect(String(error)).not.toContain('CANARY');
    }
  });

  it('never returns Set-Cookie, Access-Control-*, WWW-Authenticate or Location from upstream', () => {
    const upstream = new Headers([
      ['set-cookie', 'vendor_session=1; Path=/'],
      ['set-cookie', 'other=2'],
      ['access-control-allow-origin', '*'],
      ['access-control-allow-credentials', 'true'],
      ['www-authenticate', 'Bearer error="invalid_token"'],
      ['location', 'https://vendor.example/login'],
      ['server', 'vendor/1.0'],
      ['strict-transport-security', 'max-age=1'],
      ['content-security-policy', "script-src 'unsafe-inline'"],
      ['content-length', '10'],
      ['content-encoding', 'gzip'],
      ['x-powered-by', 'PHP'],
      ['content-type', 'application/json'],
      ['cache-control', 'private, max-age=0'],
      ['etag', '"v1"'],
      ['last-modified', 'Wed, 21 Oct 2015 07:28:00 GMT'],
      ['retry-after', '30'],
      ['x-request-id', 'req-1'],
      ['content-language', 'de'],
    ]);
    const client = new Headers(clientResponseHeaders(upstream));
    expect(client.getSetCookie()).toEqual([]);
    expect(keys(client)).toEqual(
      [
        'cache-control',
        'content-language',
        'content-security-policy',
        'content-type',
        'etag',
        'last-modified',
        'retry-after',
        'x-content-type-options',
        'x-request-id',
      ].sort(),
    );
    expect(client.get('x-content-type-options')).toBe('nosniff');
    expect(client.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
    expect(client.get('retry-after')).toBe('30');
  });

  it('extra fields (CORS, the session cache rule) replace a vendor header of the same name', () => {
    const upstream = new Headers({ 'cache-control': 'public, max-age=600', 'content-type': 'application/json' });
    const client = new Headers(clientResponseHeaders(upstream, { 'cache-control': 'private, no-store', vary: 'Origin' }));
    expect(client.get('cache-control')).toBe('private, no-store');
    expect(client.get('vary')).toBe('Origin');
    expect(client.get('content-type')).toBe('application/json');
  });
});

// ---------------------------------------------------------------------------------------------
// cors.ts — docs/security.md rows 9, 12
// ---------------------------------------------------------------------------------------------

const ORIGINS = ['https://shop.example', 'http://127.0.0.1:8787'];

describe('corsHeaders', () => {
  it('a listed origin gets Allow-Origin (itself), credentials and Vary: Origin', () => {
    const headers = corsHeaders('https://shop.example', ORIGINS, { credentials: true, exposeHeaders: EXPOSED_RESPONSE_HEADERS });
    expect(headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(headers.get('access-control-allow-credentials')).toBe('true');
    expect(headers.get('vary')).toBe('Origin');
    expect(headers.get('access-control-expose-headers')).toContain('retry-after');
  });

  it('without credentials there is no Allow-Credentials', () => {
    const headers = corsHeaders('https://shop.example', ORIGINS, { credentials: false });
    expect(headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(headers.has('access-control-allow-credentials')).toBe(false);
  });

  const refused: [string, string | null][] = [
    ['a foreign origin', 'https://evil.example'],
    ['the null origin', 'null'],
    ['no origin', null],
    ['a case variant of a listed origin', 'https://SHOP.example'],
    ['a scheme variant', 'http://shop.example'],
    ['a port variant', 'https://shop.example:443'],
    ['a suffix trick', 'https://shop.example.evil.example'],
    ['a prefix trick', 'https://evilshop.example'],
    ['a trailing slash', 'https://shop.example/'],
    ['the wildcard', '*'],
  ];
  for (const [what, origin] of refused) {
    it(`${what} gets no Access-Control-* at all, but still Vary: Origin`, () => {
      const headers = corsHeaders(origin, ORIGINS, { credentials: true, methods: ['GET'], allowHeaders: ['x-tokengate-csrf'], maxAge: 60 });
      expect(keys(headers)).toEqual(['vary']);
      expect(headers.get('vary')).toBe('Origin');
    });
  }

  it('corsFields is the same set of headers as a plain record', () => {
    const options = { credentials: true, methods: ['GET', 'POST'], allowHeaders: ['x-tokengate-csrf'], exposeHeaders: ['etag'], maxAge: 60 };
    for (const origin of ['https://shop.example', 'https://evil.example', null]) {
      expect(Object.fromEntries(corsHeaders(origin, ORIGINS, options))).toEqual(corsFields(origin, ORIGINS, options));
    }
  });

  it('a configured "null" or "*" still never allows anything', () => {
    expect(corsHeaders('null', ['null'], { credentials: true }).has('access-control-allow-origin')).toBe(false);
    expect(corsHeaders('*', ['*'], { credentials: true }).has('access-control-allow-origin')).toBe(false);
    expect(corsHeaders('https://x.example', ['*'], { credentials: true }).has('access-control-allow-origin')).toBe(false);
  });

  it('refuses a maxAge that is not a whole number of seconds', () => {
    expect(() => corsHeaders('https://shop.example', ORIGINS, { credentials: false, maxAge: 1.5 })).toThrow(RangeError);
  });
});

describe('preflight', () => {
  const ask = (origin: string | null, method: string | null, requestHeaders?: string, verb = 'OPTIONS'): Request => {
    const headers = new Headers();
    if (origin !== null) headers.set('origin', origin);
    if (method !== null) headers.set('access-control-request-method', method);
    if (requestHeaders !== undefined) headers.set('access-control-request-headers', requestHeaders);
    return new Request('https://edge.example/api/instabox/v2/orders', { method: verb, headers });
  };

  it('answers 204 with the CORS headers for a listed origin and an allowed method', () => {
    const response = preflight(ask('https://shop.example', 'POST', 'Content-Type, X-TokenGate-CSRF'), ORIGINS, ['GET', 'HEAD', 'POST']);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('x-tokengate-csrf');
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.get('vary')).toContain('Origin');
  });

  const refusals: [string, Request, string[]][] = [
    ['a foreign origin', ask('https://evil.example', 'POST'), ['POST']],
    ['the null origin', ask('null', 'POST'), ['POST']],
    ['no origin', ask(null, 'POST'), ['POST']],
    ['a case variant origin', ask('https://Shop.example', 'POST'), ['POST']],
    ['a method the route does not allow', ask('https://shop.example', 'DELETE'), ['GET', 'HEAD', 'POST']],
    ['an unknown path (no methods)', ask('https://shop.example', 'GET'), []],
    ['a header that is not allowed', ask('https://shop.example', 'POST', 'x-tokengate-csrf, cookie'), ['POST']],
    ['no Access-Control-Request-Method', ask('https://shop.example', null), ['POST']],
    ['a request that is not OPTIONS', ask('https://shop.example', 'POST', undefined, 'POST'), ['POST']],
  ];
  for (const [what, request, methods] of refusals) {
    it(`answers 403 without Allow-Origin for ${what}`, () => {
      const response = preflight(request, ORIGINS, methods);
      expect(response.status).toBe(403);
      expect(response.headers.has('access-control-allow-origin')).toBe(false);
      expect(response.headers.has('access-control-allow-credentials')).toBe(false);
      expect(response.headers.get('vary')).toContain('Origin');
    });
  }
});

describe('checkBrowserCsrf', () => {
  const call = (headers: Record<string, string>): Request => new Request('https://edge.example/api/instabox/v2/orders', { method: 'POST', headers });
  const cases: [string, Record<string, string>, string][] = [
    ['a server caller: no Origin, no Cookie', {}, 'ok'],
    ['a server caller with the header anyway', { 'x-tokengate-csrf': '1' }, 'ok'],
    ['listed Origin + header', { origin: 'https://shop.example', 'x-tokengate-csrf': '1' }, 'ok'],
    ['listed Origin + Cookie + header', { origin: 'https://shop.example', cookie: 's=1', 'x-tokengate-csrf': '1' }, 'ok'],
    ['listed Origin, no header', { origin: 'https://shop.example', cookie: 's=1' }, 'MISSING_HEADER'],
    ['listed Origin, header with another value', { origin: 'https://shop.example', 'x-tokengate-csrf': 'true' }, 'MISSING_HEADER'],
    ['listed Origin, header empty', { origin: 'https://shop.example', 'x-tokengate-csrf': '' }, 'MISSING_HEADER'],
    ['foreign Origin + header', { origin: 'https://evil.example', 'x-tokengate-csrf': '1' }, 'BAD_ORIGIN'],
    ['foreign Origin, no header', { origin: 'https://evil.example' }, 'BAD_ORIGIN'],
    ['null Origin + Cookie + header', { origin: 'null', cookie: 's=1', 'x-tokengate-csrf': '1' }, 'BAD_ORIGIN'],
    ['case variant Origin + header', { origin: 'https://SHOP.example', 'x-tokengate-csrf': '1' }, 'BAD_ORIGIN'],
    ['Cookie without Origin + header', { cookie: 's=1', 'x-tokengate-csrf': '1' }, 'BAD_ORIGIN'],
    ['Cookie without Origin, cross-site fetch metadata', { cookie: 's=1', 'sec-fetch-site': 'cross-site', 'x-tokengate-csrf': '1' }, 'BAD_ORIGIN'],
    ['Cookie without Origin, same-site (not same-origin)', { cookie: 's=1', 'sec-fetch-site': 'same-site', 'x-tokengate-csrf': '1' }, 'BAD_ORIGIN'],
    ['same-origin GET (no Origin) + Cookie + header', { cookie: 's=1', 'sec-fetch-site': 'same-origin', 'x-tokengate-csrf': '1' }, 'ok'],
    ['same-origin GET (no Origin) + Cookie, no header', { cookie: 's=1', 'sec-fetch-site': 'same-origin' }, 'MISSING_HEADER'],
  ];
  for (const [what, headers, expected] of cases) {
    it(`${what} → ${expected}`, () => {
      expect(checkBrowserCsrf(call(headers), ORIGINS)).toBe(expected);
    });
  }

  it('takes another header name', () => {
    const request = call({ origin: 'https://shop.example', 'x-csrf': '1' });
    expect(checkBrowserCsrf(request, ORIGINS, 'x-csrf')).toBe('ok');
    expect(checkBrowserCsrf(request, ORIGINS)).toBe('MISSING_HEADER');
  });
});

// ---------------------------------------------------------------------------------------------
// cookies.ts — docs/security.md row 8
// ---------------------------------------------------------------------------------------------

/** The attributes of a Set-Cookie value, lower-cased names; the first pair is the cookie itself. */
function attributes(setCookie: string): { name: string; value: string; attrs: Map<string, string> } {
  const [pair = '', ...rest] = setCookie.split(';').map((part) => part.trim());
  const equals = pair.indexOf('=');
  const attrs = new Map<string, string>();
  for (const attr of rest) {
    const at = attr.indexOf('=');
    attrs.set((at === -1 ? attr : attr.slice(0, at)).toLowerCase(), at === -1 ? '' : attr.slice(at + 1));
  }
  return { name: pair.slice(0, equals), value: pair.slice(equals + 1), attrs };
}

function expectHostCookie(setCookie: string, sameSite: 'Strict' | 'Lax'): void {
  const { name, attrs } = attributes(setCookie);
  expect(name.startsWith('__Host-')).toBe(true);
  expect(attrs.has('secure')).toBe(true);
  expect(attrs.has('httponly')).toBe(true);
  expect(attrs.get('path')).toBe('/');
  expect(attrs.get('samesite')).toBe(sameSite);
  expect(attrs.has('domain')).toBe(false);
}

describe('parseCookies', () => {
  it('reads pairs, trims whitespace, strips one pair of quotes', () => {
    expect(parseCookies('a=1; b=2;c=3 ;  d = 4 ; e="five"')).toEqual(
      new Map([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
        ['d', '4'],
        ['e', 'five'],
      ]),
    );
  });

  it('first occurrence wins', () => {
    expect(parseCookies('__Host-session=first; __Host-session=second').get('__Host-session')).toBe('first');
  });

  it('skips malformed pairs and keeps the rest', () => {
    const parsed = parseCookies('novalue; =nameless; bad name=1; ok=1; sp=a b; q="x"y"; semi=a\\b; comma=a,b; empty=; eq=a=b; ;;');
    expect(parsed).toEqual(
      new Map([
        ['ok', '1'],
        ['empty', ''],
        ['eq', 'a=b'],
      ]),
    );
  });

  it('is empty for null, empty and garbage, and never throws', () => {
    expect(parseCookies(null).size).toBe(0);
    expect(parseCookies('').size).toBe(0);
    expect(parseCookies(';;;===').size).toBe(0);
    expect(parseCookies('\u0000\uffff\ud800').size).toBe(0);
  });

  it(`reads at most ${MAX_COOKIES} cookies and 8 KiB`, () => {
    const many = Array.from({ length: 80 }, (_, i) => `c${i}=${i}`).join('; ');
    const parsed = parseCookies(many);
    expect(parsed.size).toBe(MAX_COOKIES);
    expect(parsed.has('c49')).toBe(true);
    expect(parsed.has('c50')).toBe(false);

    const big = `a=1; big=${'x'.repeat(9000)}; c=3`;
    expect(parseCookies(big)).toEqual(new Map([['a', '1']]));
    const edge = `a=${'x'.repeat(8190)}; b=1`; // 'a=' + 8190 = 8192 exactly, 'b' beyond
    expect([...parseCookies(edge).keys()]).toEqual(['a']);
  });

  it('never throws and stays within its bounds on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: fc.constantFrom('a', '=', ';', ' ', '"', '\\', ',', '\t', '_'), maxLength: 300 })), (header) => {
        const parsed = parseCookies(header);
        expect(parsed.size).toBeLessThanOrEqual(MAX_COOKIES);
        for (const [name, value] of parsed) {
          expect(name).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
          expect(value).toMatch(/^[\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]*$/);
        }
      }),
      RUNS,
    );
  });
});

describe('serializeHostCookie and clearHostCookie', () => {
  it('the session cookie: __Host-, Secure, HttpOnly, Path=/, SameSite=Strict, no Domain', () => {
    const cookie = serializeHostCookie('session', 'abc123', { maxAge: 3600, sameSite: 'Strict' });
    expect(cookie).toBe('__Host-session=abc123; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Strict');
    expectHostCookie(cookie, 'Strict');
  });

  it('the login-transaction cookie is Lax', () => {
    const cookie = serializeHostCookie('link-tx', 'v', { maxAge: 600, sameSite: 'Lax' });
    expectHostCookie(cookie, 'Lax');
    expect(attributes(cookie).attrs.get('max-age')).toBe('600');
  });

  it('without maxAge it is a session cookie; clear sets Max-Age=0 and an empty value', () => {
    expect(serializeHostCookie('s', 'v', { sameSite: 'Strict' })).not.toMatch(/max-age|expires/i);
    const cleared = clearHostCookie('session', 'Strict');
    expectHostCookie(cleared, 'Strict');
    expect(attributes(cleared)).toMatchObject({ name: '__Host-session', value: '' });
    expect(attributes(cleared).attrs.get('max-age')).toBe('0');
  });

  it('refuses bad names, values and max-ages, without echoing the value', () => {
    for (const name of ['', 'a b', 'a=b', 'a;b', 'sess.ion', 'séssion', '__Host-session', '__host-x', '__Secure-x']) {
      expect(() => serializeHostCookie(name, 'v', { sameSite: 'Strict' }), name).toThrow(TypeError);
    }
    for (const value of ['a b', 'a;b', 'a,b', 'a"b', 'a\\b', 'é', 'a\r\nSet-Cookie: x=1', 'x'.repeat(5000)]) {
      expect(() => serializeHostCookie('s', value, { sameSite: 'Strict' })).toThrow(TypeError);
    }
    for (const maxAge of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => serializeHostCookie('s', 'v', { maxAge, sameSite: 'Strict' })).toThrow(TypeError);
    }
    expect(() => serializeHostCookie('s', 'v', { sameSite: 'None' as 'Strict' })).toThrow(TypeError);
    try {
      serializeHostCookie('s', 'SECRET CANARY', { sameSite: 'Strict' });
    } catch (error) {
      expect(String(error)).not.toContain('CANARY');
    }
  });

  it('every serialized cookie has the five attributes and round-trips through parseCookies (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/).filter((n) => !/^__(host|secure)-/i.test(n));
    const value = fc.string({ unit: fc.constantFrom(...'abcXYZ019!#$%&\'()*+-./:<=>?@[]^_`{|}~'.split('')), maxLength: 64 });
    const sameSite = fc.constantFrom('Strict' as const, 'Lax' as const);
    const maxAge = fc.option(fc.nat({ max: 400 * 24 * 3600 }), { nil: undefined });
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 10 }), sameSite, maxAge, (pairs, site, age) => {
        const header = pairs
          .map(([n, v]) => {
            const cookie = serializeHostCookie(n, v, age === undefined ? { sameSite: site } : { maxAge: age, sameSite: site });
            expectHostCookie(cookie, site);
            const { name: sent, value: sentValue } = attributes(cookie);
            expect(sent).toBe(hostCookieName(n));
            return `${sent}=${sentValue}`;
          })
          .join('; ');
        const parsed = parseCookies(header);
        expect(parsed).toEqual(new Map(pairs.map(([n, v]) => [`__Host-${n}`, v])));
      }),
      RUNS,
    );
  });
});
