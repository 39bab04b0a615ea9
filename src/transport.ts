import { DEV } from '#dev';
import { ERR_ABORTED, ERR_BODY_TOO_LARGE, ERR_NETWORK, ERR_TIMEOUT, ERR_UNEXPECTED_REDIRECT, TokenGateError } from './errors.js';
import type { FetchLike } from './types.js';

/** Default per-request timeout in milliseconds. */
export const DEFAULT_TIMEOUT: number = 10_000;
/** Default cap on an answer body in bytes: token and metadata answers are a few kB. */
export const DEFAULT_MAX_RESPONSE_BYTES: number = 256 * 1024;

export interface SendOptions {
  fetch?: FetchLike | undefined;
  signal?: AbortSignal | undefined;
  timeout?: number | undefined;
  /** Names the endpoint in error messages, e.g. `instabox token endpoint`. */
  label: string;
}

/** The signal of one exchange, and the typed error for whichever of its ends fired. */
type Watch = [signal: AbortSignal, failure: (error: unknown, what: string, status?: number) => TokenGateError];

/**
 * The deadline of each answer that {@link send} returned. With a real fetch, the request's signal also
 * aborts the body stream, so the body read must judge its failure by that same deadline: a stalled
 * body is then `ERR_TIMEOUT`, not a broken connection.
 */
const deadlines = new WeakMap<Response, Watch>();

/**
 * One signal for a deadline and the caller's AbortSignal, and the typed error for whichever fired
 * (or for a network failure, when neither did).
 */
function watch(timeout: number, caller: AbortSignal | undefined): Watch {
  const deadline = AbortSignal.timeout(timeout);
  return [
    caller ? AbortSignal.any([caller, deadline]) : deadline,
    (error, what, status) => {
      if (error instanceof TokenGateError) return error;
      const options = { status, cause: error };
      if (caller?.aborted) return new TokenGateError(ERR_ABORTED, DEV ? `${what} was aborted` : what, { status, cause: caller.reason });
      if (deadline.aborted) return new TokenGateError(ERR_TIMEOUT, DEV ? `${what} did not finish within ${timeout} ms` : `${what} ${timeout} ms`, options);
      return new TokenGateError(ERR_NETWORK, DEV ? `${what} failed: the connection broke or could not be made` : what, options);
    },
  ];
}

/**
 * Sends one request with a timeout, the caller's AbortSignal and `redirect: 'manual'`, and turns every
 * way it can fail before an answer arrives into a typed error.
 */
export async function send(url: string, init: RequestInit, options: SendOptions): Promise<Response> {
  const watcher = watch(options.timeout ?? DEFAULT_TIMEOUT, options.signal);
  const [signal, failure] = watcher;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { ...init, redirect: 'manual', signal });
  } catch (error) {
    throw failure(error, DEV ? `The request to the ${options.label}` : options.label);
  }
  // A browser's answer to redirect: 'manual' (workers-types does not list this type).
  if ((response.type as string) === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
    await cancel(response.body);
    throw new TokenGateError(ERR_UNEXPECTED_REDIRECT, DEV ? `The ${options.label} answered with a redirect (HTTP ${response.status}); it was not followed` : `${options.label} ${response.status}`, { status: response.status });
  }
  deadlines.set(response, watcher);
  return response;
}

export interface ReadOptions {
  label: string;
  maxBytes?: number | undefined;
  /**
   * Aborts (or times out) the body read as well; reading a slow body counts against the timeout. An
   * answer from {@link send} keeps its request's deadline and signal: the whole exchange has one.
   */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

const cancel = (stream: { cancel(): Promise<void> } | null): Promise<void> | undefined => stream?.cancel().catch(() => {});

/** Reads a body as text, refusing more than `maxBytes`. */
export async function readText(response: Response, options: ReadOptions): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const status = response.status;
  const tooLarge = (): TokenGateError => new TokenGateError(ERR_BODY_TOO_LARGE, DEV ? `The ${options.label} answer is larger than ${maxBytes} bytes` : `${options.label} ${maxBytes}`, { status });
  if (Number(response.headers.get('content-length')) > maxBytes) {
    await cancel(response.body);
    throw tooLarge();
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const [signal, failure] = deadlines.get(response) ?? watch(options.timeout ?? DEFAULT_TIMEOUT, options.signal);
  // Cancelling ends a pending read (done), so a stalled body cannot outlive the signal. The listener
  // returns nothing: an event listener's promise is ignored, and workerd warns about every one.
  const stop = (): void => void cancel(reader);
  signal.addEventListener('abort', stop);
  // Decoded as it streams: no second copy of the body to join the chunks.
  const decoder = new TextDecoder();
  let text = '';
  let total = 0;
  try {
    signal.throwIfAborted();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      total += next.value.byteLength;
      if (total > maxBytes) throw tooLarge();
      text += decoder.decode(next.value, { stream: true });
    }
    signal.throwIfAborted();
  } catch (error) {
    await cancel(reader);
    throw failure(error, DEV ? `Reading the ${options.label} answer` : options.label, status);
  } finally {
    signal.removeEventListener('abort', stop);
  }
  return text + decoder.decode();
}

export type JsonBody =
  | { kind: 'json'; value: unknown }
  | { kind: 'html' }
  /** `value`: the body parsed as a JSON object anyway, for error answers sent with a wrong type. */
  | { kind: 'other'; contentType: string; value?: unknown }
  | { kind: 'invalid' };

/**
 * Reads a body and classifies it: parsed JSON, an HTML page, another content type, or JSON that does
 * not parse. Nothing of the body itself leaves here except the parsed value.
 */
export async function readJson(response: Response, options: ReadOptions): Promise<JsonBody> {
  const text = await readText(response, options);
  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const looksHtml = /^\s*<(?:!doctype|html|head|body)/i.test(text);
  if (contentType === 'text/html' || contentType === 'application/xhtml+xml' || looksHtml) return { kind: 'html' };
  const isJson = contentType === 'application/json' || contentType.endsWith('+json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: value stays undefined.
  }
  if (!isJson) return { kind: 'other', contentType: contentType || 'none', ...(typeof value === 'object' && value !== null && { value }) };
  return value === undefined ? { kind: 'invalid' } : { kind: 'json', value };
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
