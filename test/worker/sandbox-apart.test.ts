import { describe, expect, it } from 'vitest';
import { call } from './helpers.js';

// docs/security.md row 22: the Worker's origin has no sandbox route, so nothing on it reflects a
// request's headers (the HttpOnly session cookie included) back to page script.
describe('the sandbox is not on the Worker’s origin (row 22)', () => {
  const cookie = '__Host-tg_session=session-cookie-canary-5b1e';

  it('no path of the Worker reaches the sandbox: its controls, its echo, its vendors', async () => {
    for (const path of ['/sandbox/_echo/headers', '/sandbox/_stats', '/_echo/headers', '/_stats', '/sandbox/instabox/v2/orders', '/oauth2/authorize']) {
      const answer = await call(path, { headers: { cookie } });
      expect(answer.status, path).not.toBe(200);
      expect(await answer.text(), path).not.toContain('session-cookie-canary');
    }
    for (const path of ['/sandbox/_faults', '/sandbox/_reset', '/_faults', '/_reset']) {
      const answer = await call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor: 'instabox', fault: 'revoke' }) });
      expect([404, 405], path).toContain(answer.status);
    }
  });
});
