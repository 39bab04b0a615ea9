import { ErrorCode, TokenGateError } from './errors.js';
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

/**
 * Sends one request with a timeout, the caller's AbortSignal and `redirect: 'manual'`, and turns every
 * way it can fail before an answer arrives into a typed error.
 */
export async function send(url: string, init: RequestInit, options: SendOptions): Promise<Response> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const onAbort = (): void => controller.abort();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await fetchFn(url, { ...init, redirect: 'manual', signal: controller.signal });
    // A browser's answer to redirect: 'manual' (workers-types does not list this type).
    if ((response.type as string) === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel().catch(() => {});
      throw new TokenGateError(ErrorCode.UNEXPECTED_REDIRECT, `The ${options.label} answered with a redirect (HTTP ${response.status}); it was not followed`, { status: response.status });
    }
    return response;
  } catch (error) {
    if (error instanceof TokenGateError) throw error;
    if (timedOut) throw new TokenGateError(ErrorCode.TIMEOUT, `The ${options.label} did not answer within ${timeout} ms`);
    if (options.signal?.aborted) throw new TokenGateError(ErrorCode.ABORTED, `The request to the ${options.label} was aborted`, { cause: options.signal.reason });
    throw new TokenGateError(ErrorCode.NETWORK, `The ${options.label} could not be reached`, { cause: error });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export interface ReadOptions {
  label: string;
  maxBytes?: number | undefined;
  /** Aborts (or times out) the body read as well; reading a slow body counts against the timeout. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Reads a body as text, refusing more than `maxBytes`. */
export async function readText(response: Response, options: ReadOptions): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const tooLarge = (): TokenGateError =>
    new TokenGateError(ErrorCode.BODY_TOO_LARGE, `The ${options.label} answer is larger than ${maxBytes} bytes`, { status: response.status });
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TokenGateError(ErrorCode.TIMEOUT, `The ${options.label} answer did not arrive within ${timeout} ms`, { status: response.status })), timeout);
  });
  const onAbort = (): void => void reader.cancel().catch(() => {});
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), stalled]);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    if (error instanceof TokenGateError) throw error;
    if (options.signal?.aborted) throw new TokenGateError(ErrorCode.ABORTED, `Reading the ${options.label} answer was aborted`);
    throw new TokenGateError(ErrorCode.NETWORK, `The ${options.label} answer broke off`, { status: response.status, cause: error });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

export type JsonBody =
  | { kind: 'json'; value: unknown }
  | { kind: 'html' }
  | { kind: 'other'; contentType: string }
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
  if (!isJson) return { kind: 'other', contentType: contentType || 'none' };
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch {
    return { kind: 'invalid' };
  }
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
