import { mediaType } from './http.js';

/** The body encodings a sandbox endpoint may take. */
export type BodyFormat = 'form' | 'json' | 'multipart';

/** Request parameters by name; JSON bodies keep their value types, form bodies are all strings. */
export type Params = ReadonlyMap<string, unknown>;

/** A read body, or why it could not be read. */
export type BodyResult =
  | { ok: true; params: Params }
  /** `content_type`: not one of the accepted formats; `malformed`: the body cannot be read as one. */
  | { ok: false; reason: 'content_type' | 'malformed' };

/** Token requests are small; anything bigger is refused before parsing. */
const MAX_BODY_CHARS = 64 * 1024;

const FORMATS: Record<string, BodyFormat> = {
  'application/x-www-form-urlencoded': 'form',
  'multipart/form-data': 'multipart',
  'application/json': 'json',
  'application/vnd.api+json': 'json',
};

/** The body as UTF-8 text (workerd warns when `.text()` meets a form content type). */
async function readText(request: Request): Promise<string> {
  return new TextDecoder().decode(await request.arrayBuffer());
}

/**
 * Reads a request body in one of the `accepted` formats. A form parameter given twice is malformed
 * (RFC 6749 §3.2: parameters MUST NOT be included more than once).
 */
export async function readBody(request: Request, accepted: readonly BodyFormat[]): Promise<BodyResult> {
  const format = FORMATS[mediaType(request)];
  if (format === undefined || !accepted.includes(format)) return { ok: false, reason: 'content_type' };
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_CHARS) return { ok: false, reason: 'malformed' };
  try {
    if (format === 'multipart') return fromEntries(await request.formData());
    const text = await readText(request);
    if (text.length > MAX_BODY_CHARS) return { ok: false, reason: 'malformed' };
    if (format === 'form') return fromEntries(new URLSearchParams(text));
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'malformed' };
    return { ok: true, params: new Map(Object.entries(parsed)) };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

function fromEntries(entries: Iterable<[string, unknown]>): BodyResult {
  const params = new Map<string, unknown>();
  for (const [name, value] of entries) {
    if (params.has(name) || typeof value !== 'string') return { ok: false, reason: 'malformed' };
    params.set(name, value);
  }
  return { ok: true, params };
}

/** A parameter as a non-empty string, or undefined when it is missing, empty or not a string. */
export function param(params: Params, name: string): string | undefined {
  const value = params.get(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Reads an optional JSON object body whatever its Content-Type: an empty body is an empty object,
 * anything else must parse as a JSON object (undefined otherwise). For API calls whose body is optional.
 */
export async function readJsonObject(request: Request): Promise<Params | undefined> {
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_CHARS) return undefined;
  const text = await readText(request);
  if (text.trim() === '') return new Map();
  if (text.length > MAX_BODY_CHARS) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return new Map(Object.entries(parsed));
  } catch {
    return undefined;
  }
}
