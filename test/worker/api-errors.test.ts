import { describe, expect, it } from 'vitest';
import { call, ORIGIN } from './helpers.js';

// The proxy's refusals say what was wrong in the caller's terms, as JSON like every other error
// (docs/errors.md): the vendor named, the path that is missing, the header that is missing.

const body = async (response: Response): Promise<{ error: string; message: string }> => (await response.json()) as never;

describe('/api errors name what to fix', () => {
  it('a vendor in the wrong case is a JSON 404 naming it and the lower-case name', async () => {
    const answer = await call('/api/Instabox/v2/orders', { headers: { origin: ORIGIN, 'x-tokengate-csrf': '1' } });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toContain('application/json');
    const { error, message } = await body(answer);
    expect(error).toBe('unknown_vendor');
    expect(message).toBe('No vendor named "Instabox" is configured; vendor names are lower case: /api/instabox');
  });

  it('an unknown vendor is named in its error', async () => {
    const answer = await call('/api/nosuch/v1/things');
    expect(answer.status).toBe(404);
    expect(await body(answer)).toEqual({ error: 'unknown_vendor', message: 'No vendor named "nosuch" is configured' });
  });

  it('/api/<vendor> without a path says the vendor API path is missing, with an example', async () => {
    for (const path of ['/api/instabox', '/api/instabox?page=2']) {
      const answer = await call(path);
      expect(answer.status, path).toBe(404);
      expect(await body(answer), path).toEqual({ error: 'route_not_allowed', message: 'Name the instabox API path after /api/instabox, e.g. /api/instabox/v2/orders' });
    }
  });

  it('a cookie-only call (curl, no Origin) is told it sent no Origin, not that its origin is refused', async () => {
    const answer = await call('/api/instabox/v2/orders', { headers: { cookie: '__Host-tg_session=x' } });
    expect(answer.status).toBe(403);
    const { error, message } = await body(answer);
    expect(error).toBe('csrf');
    expect(message).toContain('sent no Origin header');
    const foreign = await call('/api/instabox/v2/orders', { headers: { origin: 'https://evil.example', cookie: '__Host-tg_session=x' } });
    expect((await body(foreign)).message).toBe('This origin may not call the API');
  });
});
