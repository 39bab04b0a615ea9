import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../worker/index.js';
import { browser, call, echoCalls, ORIGIN } from './helpers.js';

// The smaller findings of issue 21, each at its cause: a linking action named like an Object
// prototype member, merged Content-Type fields, a stalled or broken request body, an oversized head,
// and /healthz outside BASE_PATH (docs/security.md row 17). A client that disconnects mid-body is on
// the wire only: test/node/wire.test.ts.

const echo = (init: { headers: Record<string, string>; body: BodyInit }): Promise<Response> => call('/api/echo/headers', { method: 'POST', ...init });

/** A body that sends one chunk and then nothing more, never closing. */
function stalledBody(): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return new Promise<void>(() => undefined);
      sent = true;
      controller.enqueue(new TextEncoder().encode('grant_type='));
      return undefined;
    },
  }, { highWaterMark: 0 });
}

describe('the smaller findings of issue 21', () => {
  it('OPTIONS /link/oauth2/constructor is refused like any unknown action, not a 500', async () => {
    for (const action of ['constructor', 'tostring', 'valueof']) {
      const answer = await call(`/link/oauth2/${action}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } });
      expect(answer.status, action).toBe(403);
    }
    const known = await call('/link/oauth2/status', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } });
    expect(known.status).toBe(204);
  });

  it('two Content-Type fields are refused with 400 and never reach the vendor merged into one', async () => {
    const before = await echoCalls();
    // Two fields reach the Worker as one, joined by ", " (RFC 9110 §5.3): this is what it sees of them.
    const answer = await echo({ headers: browser({ 'content-type': 'application/json, text/plain' }), body: '{}' });
    expect(answer.status).toBe(400);
    await expect(answer.json()).resolves.toMatchObject({ error: 'invalid_content_type' });
    expect(await echoCalls()).toBe(before);
    // One media type whose quoted parameter holds a comma is one field, and goes through as sent.
    const quoted = await echo({ headers: browser({ 'content-type': 'multipart/form-data; boundary="a,b"' }), body: '--a,b--' });
    expect(quoted.status).toBe(200);
    await expect(quoted.json()).resolves.toMatchObject({ headers: { 'content-type': 'multipart/form-data; boundary="a,b"' } });
  });

  it('a request body that stalls is answered 408 at the body deadline, and the vendor is never called', async () => {
    const before = await echoCalls();
    const [proxied, token] = await Promise.all([
      echo({ headers: browser({ 'content-type': 'application/octet-stream' }), body: stalledBody() }),
      call('/token/instacart', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: stalledBody() }),
    ]);
    expect(proxied.status).toBe(408);
    await expect(proxied.json()).resolves.toMatchObject({ error: 'body_timeout' });
    expect(token.status).toBe(408);
    await expect(token.json()).resolves.toMatchObject({ error: 'invalid_request' });
    expect(await echoCalls()).toBe(before);
  }, 30_000);

  it('a 200 KB header is refused with 431 before any route runs; a large cookie header still passes', async () => {
    const before = await echoCalls();
    const huge = await call('/api/echo/headers', { headers: browser({ 'x-filler': 'a'.repeat(200 * 1024) }) });
    expect(huge.status).toBe(431);
    await expect(huge.json()).resolves.toMatchObject({ error: 'headers_too_large' });
    expect((await call('/healthz', { headers: { 'x-filler': 'a'.repeat(200 * 1024) } })).status).toBe(431);
    expect(await echoCalls()).toBe(before);
    expect((await call('/api/echo/headers', { headers: browser({ cookie: `a=${'b'.repeat(8 * 1024)}`, 'x-filler': 'c'.repeat(24 * 1024) }) })).status).toBe(200);
  });

  it('/healthz answers under BASE_PATH only', async () => {
    const mounted = { ...(env as unknown as Record<string, unknown>), BASE_PATH: '/tokengate' };
    const ask = (path: string): Promise<Response> => worker.fetch(new Request(`${ORIGIN}${path}`), mounted as never);
    expect((await ask('/tokengate/healthz')).status).toBe(200);
    expect((await ask('/healthz')).status).toBe(404);
  });
});
