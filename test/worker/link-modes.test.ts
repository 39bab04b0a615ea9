import { describe, expect, it } from 'vitest';
import { call, linkBff, ORIGIN, sandboxStats } from './helpers.js';

// The two linking modes stay apart (docs/security.md row 18): a session linked the BFF way never
// yields a token to the browser.

const refresh = (cookie: string): Promise<Response> =>
  call('/token/instacart', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', cookie }, body: 'grant_type=refresh_token' });

describe('linking modes (row 18)', () => {
  it('a BFF-linked session asking /token to refresh is refused, with no vendor call', async () => {
    const session = await linkBff();
    // The session works for the Worker's own use of it.
    expect((await call('/api/instacart/v2/fulfillment/users/self', { headers: { origin: ORIGIN, 'x-tokengate-csrf': '1', cookie: session } })).status).toBe(200);
    const before = await sandboxStats();
    const answer = await refresh(session);
    expect(answer.status).toBe(403);
    const body = (await answer.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'access_denied' });
    expect(body).not.toHaveProperty('access_token');
    const after = await sandboxStats();
    expect(after.tokenRequests['instacart']).toBe(before.tokenRequests['instacart']);
    expect(after.apiCalls).toEqual(before.apiCalls);
  });

  it('a session with nothing linked is told to link, not that it is BFF', async () => {
    const answer = await refresh('__Host-tg_session=never-linked-session-id');
    expect(answer.status).toBe(400);
    await expect(answer.json()).resolves.toMatchObject({ error: 'invalid_grant' });
  });
});
