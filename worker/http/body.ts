import { errorResponse } from './responses.js';

/**
 * Why a request body was not read whole: `too_large` (over the cap), `timeout` (it stalled past the
 * deadline) or `aborted` (the client went away, or the stream broke, before its end).
 */
export type BodyProblem = 'too_large' | 'timeout' | 'aborted';

/** A request body read up to a cap, or why it was not. */
export type CappedBody = { ok: true; bytes: Uint8Array } | { ok: false; reason: BodyProblem };

/**
 * How long a request body may take to arrive whole (ms). A client that sends headers and then a
 * trickle, or nothing, would otherwise hold the request (and what it waits on) open for as long as
 * the platform lets it; a token request or a proxied body is a few kilobytes, sent at once.
 */
export const BODY_DEADLINE_MS = 10_000;

/**
 * Reads a request body of at most `max` bytes without ever holding more (SECURITY row 20): a declared
 * `Content-Length` over the cap is refused before a byte is read; otherwise the bytes are counted as
 * they stream in, and the stream is cancelled the moment the count passes the cap, so the rest is
 * never read (a chunked body has no length to check first). An isolate has 128 MB: a body buffered
 * whole before the check would let one request exhaust it. The whole body must arrive within
 * `deadlineMs` (row 17: a stalled body is a typed 408, not a request held open); a stream that breaks
 * (the client disconnected) is `aborted`, a typed answer rather than an unexpected error.
 */
export async function readCappedBody(request: Request, max: number, deadlineMs: number = BODY_DEADLINE_MS): Promise<CappedBody> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > max) {
    await request.body?.cancel().catch(() => undefined);
    return { ok: false, reason: 'too_large' };
  }
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deadlineMs);
  });
  const stop = async (reason: BodyProblem): Promise<CappedBody> => {
    await reader.cancel().catch(() => undefined);
    return { ok: false, reason };
  };
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array> | 'timeout';
      try {
        next = await Promise.race([reader.read(), expired]);
      } catch {
        return await stop('aborted');
      }
      if (next === 'timeout') return await stop('timeout');
      if (next.done) break;
      total += next.value.byteLength;
      if (total > max) return await stop('too_large');
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/** The status and message for a body that was not read whole (413, 408 or 400). */
export function bodyProblemAnswer(reason: BodyProblem, max: number): { status: number; error: string; message: string } {
  switch (reason) {
    case 'too_large':
      return { status: 413, error: 'body_too_large', message: `Request bodies here are limited to ${max} bytes` };
    case 'timeout':
      return { status: 408, error: 'body_timeout', message: `The request body did not arrive within ${BODY_DEADLINE_MS / 1000} s` };
    case 'aborted':
      return { status: 400, error: 'body_incomplete', message: 'The request body ended before it was complete' };
  }
}

/** {@link bodyProblemAnswer} as the Worker's `{ error, message }` answer. */
export function bodyRefused(reason: BodyProblem, max: number, headers: Headers = new Headers()): Response {
  const { status, error, message } = bodyProblemAnswer(reason, max);
  return errorResponse(status, error, message, headers);
}
