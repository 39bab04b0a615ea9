import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type Response as PageResponse } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../helpers/chromium.js';
import { freePort, startStack, type Stack } from './stack.js';

// docs/security.md row 24, as issue 21 saw it in Chromium: while the shopper sits on the vendor's
// consent page, a page on another site navigates the browser to the Worker's callback with a forged
// state. The Worker is npm start's on 127.0.0.1; the forging page is served from `localhost`, which
// Chromium treats as another site (the test checks that it sent `Sec-Fetch-Site: cross-site`). A top-
// level navigation carries the `Lax` transaction cookie, so the forged callback reaches the pending link.

let stack: Stack;
let browser: Browser;
let attacker: Server;
let attackerOrigin: string;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack(),
    chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, '--host-resolver-rules=MAP localhost 127.0.0.1'] }),
  ]);
  const port = await freePort();
  attackerOrigin = `http://localhost:${port}`;
  attacker = createServer((request, response) => {
    // The forging page: it sends the browser to the Worker's callback with a state of its own.
    const forged = `${stack.origin}/link/oauth2/callback?code=forged-code&state=forged-state&iss=${encodeURIComponent(`${stack.sandboxOrigin}/oauth2`)}`;
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><title>another site</title><script>location.href = ${JSON.stringify(forged)};</script>`);
  });
  await new Promise<void>((resolve) => attacker.listen(port, '127.0.0.1', resolve));
}, 120_000);

afterAll(async () => {
  attacker?.close();
  await browser?.close();
  await stack?.stop();
});

describe('a forged callback from another site (row 24)', () => {
  it('changes no cookie and no stored state; the shopper’s real callback still completes', async () => {
    const context = await browser.newContext();
    try {
      const shopper = await context.newPage();
      // The shopper starts a BFF link and lands on the vendor's consent page.
      await shopper.goto(`${stack.origin}/link/oauth2/start`);
      await shopper.getByRole('button', { name: 'Allow' }).waitFor();
      const linkCookie = async () => (await context.cookies(stack.origin)).find((cookie) => cookie.name === '__Host-tg_link')?.value;
      const pending = await linkCookie();
      expect(pending).toBeTruthy();

      // Meanwhile, in another tab, a page of another site forges the callback.
      const other = await context.newPage();
      const forgedAnswer = other.waitForResponse((answer: PageResponse) => answer.url().startsWith(`${stack.origin}/link/oauth2/callback`));
      await other.goto(attackerOrigin);
      const answer = await forgedAnswer;
      expect(await answer.request().headerValue('sec-fetch-site')).toBe('cross-site');
      // The transaction cookie came along (Lax, a top-level navigation), and the answer sets no cookie.
      expect(await answer.request().headerValue('cookie')).toContain('__Host-tg_link=');
      expect(answer.status()).toBe(303);
      expect(await answer.headerValue('set-cookie')).toBeNull();
      expect(new URL(answer.headers()['location']!, stack.origin).searchParams.get('link_error')).toBe('ERR_STATE_MISMATCH');
      expect(await linkCookie()).toBe(pending);

      // The shopper allows; the real callback finds the pending link and completes.
      const realAnswer = shopper.waitForResponse((answer: PageResponse) => answer.url().startsWith(`${stack.origin}/link/oauth2/callback`));
      await shopper.getByRole('button', { name: 'Allow' }).click();
      const real = await realAnswer;
      expect(real.status()).toBe(303);
      expect(new URL(real.headers()['location']!, stack.origin).searchParams.get('linked')).toBe('oauth2');
      expect(await real.headerValue('set-cookie')).toContain('__Host-tg_session=');
      await shopper.waitForLoadState();
      const status = await shopper.evaluate(async () => (await fetch('/link/oauth2/status')).json());
      expect(status).toMatchObject({ vendor: 'oauth2', linked: true });
    } finally {
      await context.close();
    }
  }, 90_000);
});
