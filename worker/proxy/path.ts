import { TokenGateError } from 'tokengate';

/**
 * Why a proxied path was refused. Stable strings: compare against these, never against messages.
 *
 * @see ../../../shared/SECURITY.md row 10 (no open proxy / SSRF)
 */
export const ProxyPathErrorCode = {
  /** `http:`, `https:` or any `scheme:` in the first segment, or a path that does not start with `/` but has a scheme. */
  ABSOLUTE_URL: 'ABSOLUTE_URL',
  /** Does not start with `/` (and is not an absolute URL): empty, `evil.example/x`, `?x`. */
  RELATIVE_PATH: 'RELATIVE_PATH',
  /** Starts with `//`: a network-path reference that would change the host. */
  PROTOCOL_RELATIVE: 'PROTOCOL_RELATIVE',
  /** A `.` or `..` segment, raw or percent-encoded in any case (`%2e%2e`, `%2E.`, `.%2e`, `..;x`). */
  DOT_SEGMENT: 'DOT_SEGMENT',
  /** `%2f` / `%2F`: an encoded slash that an upstream may decode into a segment boundary. */
  ENCODED_SLASH: 'ENCODED_SLASH',
  /** `%2e` anywhere outside a whole dot segment: `.` never needs encoding, so encoding it is a trick. */
  ENCODED_DOT: 'ENCODED_DOT',
  /** `\` or `%5c`: WHATWG URL parsers and some servers read it as `/`. */
  BACKSLASH: 'BACKSLASH',
  /** `@` or `%40`: userinfo confusion (`/@evil.example`). */
  AT_SIGN: 'AT_SIGN',
  /** A control character, raw (anywhere) or encoded in the path (`%00`–`%1f`, `%7f`). */
  CONTROL_CHAR: 'CONTROL_CHAR',
  /** `//` inside the path or a trailing `/`: an empty segment. */
  EMPTY_SEGMENT: 'EMPTY_SEGMENT',
  /** Path over 2048 characters or query over 4096. */
  TOO_LONG: 'TOO_LONG',
  /** `%` not followed by two hex digits, or escapes that are not valid UTF-8 (overlong `%c0%ae`, lone surrogates). */
  BAD_ENCODING: 'BAD_ENCODING',
  /** `%25`: an encoded `%`, the start of every double-decoding trick (`%252e%252e`). */
  DOUBLE_ENCODING: 'DOUBLE_ENCODING',
  /** A raw character a serialized URL never has there: space, `"`, `<`, `>`, `#`, `{`, non-ASCII, ... */
  BAD_CHARACTER: 'BAD_CHARACTER',
} as const;

export type ProxyPathErrorCode = (typeof ProxyPathErrorCode)[keyof typeof ProxyPathErrorCode];

const MESSAGES: Readonly<Record<ProxyPathErrorCode, string>> = {
  ABSOLUTE_URL: 'The API path must be a path, not an absolute URL',
  RELATIVE_PATH: "The API path must start with '/'",
  PROTOCOL_RELATIVE: "The API path must not start with '//'",
  DOT_SEGMENT: "The API path must not contain '.' or '..' segments",
  ENCODED_SLASH: 'The API path must not contain an encoded slash',
  ENCODED_DOT: 'The API path must not contain an encoded dot',
  BACKSLASH: 'The API path must not contain a backslash',
  AT_SIGN: "The API path must not contain '@'",
  CONTROL_CHAR: 'The API path must not contain control characters',
  EMPTY_SEGMENT: 'The API path must not contain empty segments',
  TOO_LONG: 'The API path or query is too long',
  BAD_ENCODING: 'The API path or query has malformed percent-encoding',
  DOUBLE_ENCODING: "The API path must not contain an encoded '%'",
  BAD_CHARACTER: 'The API path or query contains a character that must be percent-encoded',
};

/**
 * A proxied path the Worker refuses. `status` is 400; the message never echoes the path (it is
 * attacker-chosen and would otherwise be reflected into an error body).
 */
export class ProxyPathError extends TokenGateError {
  override name: string = 'ProxyPathError';
  declare readonly code: ProxyPathErrorCode;

  constructor(code: ProxyPathErrorCode) {
    super(code, MESSAGES[code], { status: 400 });
  }
}

/** What {@link checkProxyPath} lets through: the path and the query exactly as they came. */
export interface ProxyPath {
  /** Starts with `/`; forwarded upstream byte for byte. */
  readonly path: string;
  /** `''` or `?` followed by the raw query, forwarded byte for byte. */
  readonly search: string;
}

/** Longest path accepted; vendor REST paths are far shorter, and a cap keeps every check linear and cheap. */
export const MAX_PATH_LENGTH = 2048;
/** Longest query accepted (without the `?`): filters such as `filter[status]=open&...` can be longer than paths. */
export const MAX_QUERY_LENGTH = 4096;

const RAW_CONTROL = /[\u0000-\u001f\u007f]/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** RFC 3986 pchar without `@` (refused on its own) plus `/`: unreserved, sub-delims, `:`, `%`. */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:%/]*$/;
/**
 * Query characters: any visible ASCII except those a URL serializer always encodes in a query
 * (space, `"`, `#`, `<`, `>`). `[`, `]`, `{`, `|`, `^`, `` ` `` stay: browsers send `filter[x]=1` raw.
 */
const QUERY_CHARS = /^[\u0021\u0024-\u003b\u003d\u003f-\u007e]*$/;
const PERCENT = /%(?![0-9A-Fa-f]{2})/;

function fail(code: ProxyPathErrorCode): never {
  throw new ProxyPathError(code);
}

/** The code for a decoded character that changes the meaning of a path, or undefined. */
function codeForDecoded(char: string): ProxyPathErrorCode | undefined {
  if (char === '/') return 'ENCODED_SLASH';
  if (char === '\\') return 'BACKSLASH';
  if (char === '@') return 'AT_SIGN';
  if (char === '%') return 'DOUBLE_ENCODING';
  if (RAW_CONTROL.test(char)) return 'CONTROL_CHAR';
  return undefined;
}

function checkEscapes(path: string): void {
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i + 1)) {
    const code = codeForDecoded(String.fromCharCode(Number.parseInt(path.slice(i + 1, i + 3), 16)));
    if (code !== undefined) fail(code);
  }
}

/** `..;x` is `..` to servlet containers (path parameters), so the part before `;` counts. */
function isDotSegment(segment: string): boolean {
  const beforeParameters = segment.split(';')[0];
  return beforeParameters === '.' || beforeParameters === '..';
}

function checkSegment(segment: string): void {
  // Without escapes the segment is plain ASCII (PATH_CHARS): decoding and NFKC would change nothing.
  if (!segment.includes('%')) {
    if (isDotSegment(segment)) fail('DOT_SEGMENT');
    return;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return fail('BAD_ENCODING');
  }
  // NFKC folds look-alikes (fullwidth `．`, `／`, `＼`, `＠`) that some upstream stacks normalise
  // into the real characters; only escapes can carry them here, raw non-ASCII is refused earlier.
  for (const form of decoded === decoded.normalize('NFKC') ? [decoded] : [decoded, decoded.normalize('NFKC')]) {
    if (isDotSegment(form)) fail('DOT_SEGMENT');
    if (form !== decoded) {
      for (const char of form) {
        const code = codeForDecoded(char);
        if (code !== undefined) fail(code);
      }
    }
  }
}

/**
 * Checks the part of an incoming URL after `/api/:vendor` (path and query) before it is matched
 * against the allowlist and appended to the vendor's fixed origin, and returns it unchanged.
 *
 * Pass the raw text of `request.url` after the prefix, never `new URL(...).pathname` re-joined:
 * the URL parser resolves `.`/`..` (also `%2e%2e`) and turns `\` into `/`, so a check on its output
 * would vouch for a path the caller never wrote, and anything re-derived from it later could differ
 * from what was checked. (workerd already serializes `request.url` through that parser, so at the edge
 * most dot tricks arrive resolved; the checks still catch what survives serialization, such as `%2f`,
 * `%5c`, `%40`, `%00`, `//`, and every caller that passes a string that did not go through a parser.)
 *
 * Decisions where SECURITY.md is silent:
 * - Escapes of unreserved characters (`%41`) are kept as they are: the URL parser leaves them alone
 *   and the upstream decodes them to a character that changes no structure. `%2e` is the exception.
 * - `%25` is refused (double-decoding), as are escapes that are not valid UTF-8 (`%c0%ae`).
 * - A trailing `/` is an empty segment and refused; `/` alone is accepted (the root).
 * - `:` is refused in the first segment only; later segments may carry it (`/v1/orders:batchGet`).
 * - The query is data, not routing: escapes there may encode anything, but raw control characters,
 *   raw characters a serializer always encodes and malformed escapes are refused.
 *
 * @throws {ProxyPathError} for every refused input; never anything else.
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-3.3
 * @see https://url.spec.whatwg.org/#path-state
 */
export function checkProxyPath(rawPathAndQuery: string): ProxyPath {
  if (rawPathAndQuery.length > MAX_PATH_LENGTH + 1 + MAX_QUERY_LENGTH) fail('TOO_LONG');
  const mark = rawPathAndQuery.indexOf('?');
  const path = mark === -1 ? rawPathAndQuery : rawPathAndQuery.slice(0, mark);
  const query = mark === -1 ? '' : rawPathAndQuery.slice(mark + 1);
  if (path.length > MAX_PATH_LENGTH || query.length > MAX_QUERY_LENGTH) fail('TOO_LONG');
  // Tab and newline are silently removed by URL parsers, so they are refused in the query too.
  if (RAW_CONTROL.test(rawPathAndQuery)) fail('CONTROL_CHAR');

  if (!path.startsWith('/')) fail(SCHEME.test(path) ? 'ABSOLUTE_URL' : 'RELATIVE_PATH');
  if (path.includes('\\')) fail('BACKSLASH');
  if (path.startsWith('//')) fail('PROTOCOL_RELATIVE');
  const segments = path.slice(1).split('/');
  if ((segments[0] ?? '').includes(':')) fail('ABSOLUTE_URL');
  if (path.includes('@')) fail('AT_SIGN');
  if (!PATH_CHARS.test(path)) fail('BAD_CHARACTER');
  if (PERCENT.test(path)) fail('BAD_ENCODING');
  checkEscapes(path);

  if (path !== '/') {
    for (const segment of segments) {
      if (segment === '') fail('EMPTY_SEGMENT');
      checkSegment(segment);
    }
  }
  if (/%2e/i.test(path)) fail('ENCODED_DOT');

  if (!QUERY_CHARS.test(query)) fail('BAD_CHARACTER');
  if (PERCENT.test(query)) fail('BAD_ENCODING');
  return { path, search: query === '' ? '' : `?${query}` };
}
