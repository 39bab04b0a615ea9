/** A request body read up to a cap, or the news that it is larger. */
export type CappedBody = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too_large' };

/**
 * Reads a request body of at most `max` bytes without ever holding more (SECURITY row 20): a declared
 * `Content-Length` over the cap is refused before a byte is read; otherwise the bytes are counted as
 * they stream in, and the stream is cancelled the moment the count passes the cap, so the rest is
 * never read (a chunked body has no length to check first). An isolate has 128 MB: a body buffered
 * whole before the check would let one request exhaust it.
 */
export async function readCappedBody(request: Request, max: number): Promise<CappedBody> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > max) {
    await request.body?.cancel().catch(() => undefined);
    return { ok: false, reason: 'too_large' };
  }
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, reason: 'too_large' };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
