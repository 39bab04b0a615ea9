import { describe, expect, it } from 'vitest';
import { browser, call } from './helpers.js';

// Every proxied call has a deadline; a 304 passes through; a redirect is still never followed
// (docs/security.md row 21). The dev echo vendor's deadline is 2 s (wrangler.toml `deadlineMs`).

describe('deadlines and 3xx (row 21)', () => {
  it('a 30 s upstream is answered with a typed 504 at the deadline', async () => {
    const started = Date.now();
    const response = await call('/api/echo/slow?ms=30000', { headers: browser() });
    const took = Date.now() - started;
    expect(response.status).toBe(504);
    await expect(response.json()).resolves.toMatchObject({ error: 'upstream_timeout' });
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(6_000);
  });

  it('an upstream within the deadline answers as usual', async () => {
    const response = await call('/api/echo/slow?ms=100', { headers: browser() });
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toEqual({ slept: 100 });
  });

  it('If-None-Match → 304 reaches the caller with its validators', async () => {
    const first = await call('/api/echo/etag', { headers: browser() });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toBe('"echo-v1"');
    const again = await call('/api/echo/etag', { headers: browser({ 'if-none-match': etag! }) });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('private, max-age=60');
    expect(again.headers.get('access-control-allow-origin')).toBe(browser().origin);
  });

  it('a redirect is still not followed', async () => {
    const response = await call('/api/echo/redirect', { headers: browser() });
    expect(response.status).toBe(502);
    expect(response.headers.get('location')).toBeNull();
  });
});
