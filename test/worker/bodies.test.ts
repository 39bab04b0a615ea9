import { describe, expect, it } from 'vitest';
import { browser, call, echoCalls, ORIGIN } from './helpers.js';

// Request bodies are capped while they stream (docs/security.md row 20): the Worker answers 413 before
// an 8 MB chunked body has been sent whole, and never holds more than its cap.

const TOTAL = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** An 8 MB body with no Content-Length, made chunk by chunk as the reader pulls: `pulled()` says how far it got. */
function countingBody(): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const chunk = new Uint8Array(CHUNK).fill(0x61);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= TOTAL) {
        controller.close();
        return;
      }
      pulled += CHUNK;
      controller.enqueue(chunk.slice());
    },
  }, { highWaterMark: 0 });
  return { body, pulled: () => pulled };
}

const targets: [string, Record<string, string>][] = [
  ['/api/echo/headers', browser({ 'content-type': 'application/octet-stream' })],
  ['/token/instacart', { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }],
  ['/link/instacart/authorize', browser({ 'content-type': 'application/json' })],
];

describe('request bodies are capped while they stream (row 20)', () => {
  for (const [path, headers] of targets) {
    it(`an 8 MB chunked body to ${path.split('/')[1]} gets 413 before it has been sent whole`, async () => {
      const before = await echoCalls();
      const { body, pulled } = countingBody();
      const response = await call(path, { method: 'POST', headers, body });
      expect(response.status).toBe(413);
      // The answer came while most of the body was still unsent: the Worker stopped reading at its cap.
      expect(pulled()).toBeLessThan(TOTAL / 4);
      expect(await echoCalls()).toBe(before);
    });
  }

  it('a declared Content-Length over the cap is refused before a byte is read', async () => {
    const { body, pulled } = countingBody();
    const response = await call('/api/echo/headers', { method: 'POST', headers: browser({ 'content-length': String(TOTAL), 'content-type': 'application/octet-stream' }), body });
    expect(response.status).toBe(413);
    await expect(response.json()).resolves.toMatchObject({ error: 'body_too_large' });
    expect(pulled()).toBeLessThan(TOTAL / 4);
  });

  it('a body under the cap still goes through whole', async () => {
    const response = await call('/api/echo/headers', { method: 'POST', headers: browser({ 'content-type': 'application/json' }), body: JSON.stringify({ pad: 'x'.repeat(100_000) }) });
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toMatchObject({ bodyLength: 100_010 });
  });
});
