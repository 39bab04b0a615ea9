import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../helpers/chromium.js';
import { startStack, type Stack } from './stack.js';

// npm start's whole stack (Worker, web demo, vendor sandbox) driven by Debian's Chromium, as a
// person evaluating tokengate would use it. Screenshots of each main state go to test-results/.
const credentials = JSON.parse(readFileSync(new URL('../../sandbox/credentials.json', import.meta.url), 'utf8')) as Record<string, Record<string, string>>;
let stack: Stack;
let browser: Browser;
const shots = new URL('../../test-results/screenshots/', import.meta.url).pathname;
/** Every response body any page received, for the leak scan at the end. */
const bodies: { url: string; text: string }[] = [];

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  stack = await startStack();
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  context.on('response', (response) => {
    void response.text().then(
      (text) => bodies.push({ url: response.url(), text }),
      () => undefined,
    );
  });
  return context;
}

async function home(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(stack.origin);
  await page.getByText(/Worker is up/).waitFor();
  return page;
}

const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: `${shots}${name}.png`, fullPage: false });

describe('the web demo', () => {
  it('calls every fronted vendor API through the Worker', async () => {
    const context = await newContext();
    const page = await home(context);
    const vendors: [string, RegExp][] = [
      ['instabox', /Call GET \/v2\/orders/],
      ['eshopbox', /Call GET \/api\/v1\/orders/],
      ['instellix', /Call GET \/api\/v1\/shipments/],
      ['shopware', /Call GET \/api\/v3\/product/],
      ['instacart', /Call GET \/v2\/fulfillment\/stores/],
    ];
    for (const [vendor, button] of vendors) {
      const card = page.locator('article', { has: page.locator(`#vendor-${vendor}`) });
      await card.getByRole('button', { name: button }).click();
      await expect.poll(() => card.textContent(), { timeout: 15_000 }).toMatch(/200 OK/);
    }
    // The live panel reads the Worker's stored counters: each credential's last token, how long ago.
    const instabox = page.locator('#live-cards article', { has: page.locator('#live-instabox') });
    await expect.poll(() => instabox.textContent(), { timeout: 10_000 }).toMatch(/Last token obtained\d+ (s|min) ago/);
    await shot(page, '01-vendors-called');
    await context.close();
  });

  it('links Instacart the BFF way, calls as the user, and unlinks', async () => {
    const context = await newContext();
    const page = await home(context);
    const card = page.locator('#link-instacart');
    await card.getByRole('link', { name: /Link \(server keeps the tokens\)/ }).click();
    await page.getByRole('heading', { name: /Your Instacart account is linked/ }).waitFor();
    await shot(page, '02-bff-linked');
    await card.getByRole('button', { name: /Call as me/ }).click();
    await expect.poll(() => card.textContent(), { timeout: 15_000 }).toMatch(/200 OK/);
    // The session cookie is HttpOnly: script sees no cookie at all.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const cookies = await context.cookies();
    expect(cookies.map((c) => c.name)).toEqual(['__Host-tg_session']);
    expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    await card.getByRole('button', { name: /Unlink/ }).click();
    await expect.poll(() => card.locator('[data-link-state]').textContent(), { timeout: 15_000 }).toMatch(/Not linked/);
    // The notice said "linked": it goes with the link. And an unlinked account reads like a never-linked one.
    await expect.poll(() => page.locator('#notice').isHidden(), { timeout: 5_000 }).toBe(true);
    await card.getByRole('button', { name: /Call as me/ }).click();
    await expect.poll(() => card.locator('[role="status"], .result').last().textContent(), { timeout: 15_000 }).toMatch(/link your account first/);
    expect(await card.textContent()).not.toMatch(/can no longer be renewed/);
    await shot(page, '03-bff-unlinked');
    await context.close();
  });

  it('the Echo card names the path of each answer, and a slow answer does not replace a newer one', async () => {
    const context = await newContext();
    const page = await home(context);
    const card = page.locator('article', { has: page.locator('#vendor-echo') });
    const summary = card.locator('.result .summary');
    // /slow outlasts the echo vendor's 2 s deadline (a 504); /etag, asked meanwhile, answers at once.
    await card.getByRole('button', { name: /^Call GET \/slow/ }).click();
    await card.getByRole('button', { name: /^Call GET \/etag/ }).click();
    await expect.poll(() => summary.textContent(), { timeout: 15_000 }).toMatch(/^GET \/etag → 200/);
    // Past the deadline, /slow's 504 has come back: the area still shows /etag's answer.
    await page.waitForTimeout(3_000);
    expect(await summary.textContent()).toMatch(/^GET \/etag → 200/);
    await card.getByRole('button', { name: /^Call GET \/slow/ }).click();
    await expect.poll(() => summary.textContent(), { timeout: 15_000 }).toMatch(/^GET \/slow → 504/);
    await context.close();
  });

  it('unlink with nothing linked says there was nothing to unlink', async () => {
    const context = await newContext();
    const page = await home(context);
    const card = page.locator('#link-instacart');
    await card.getByRole('button', { name: /Unlink/ }).click();
    await expect.poll(() => card.locator('.result').textContent(), { timeout: 15_000 }).toBe('No Instacart account was linked in this browser: there was nothing to unlink.');
    await context.close();
  });

  it('says "link your account first" before any link, in the same words as after an unlink', async () => {
    const context = await newContext();
    const page = await home(context);
    const card = page.locator('#link-instacart');
    await card.getByRole('button', { name: /Call as me/ }).click();
    await expect.poll(() => card.textContent(), { timeout: 15_000 }).toMatch(/This call acts as you: link your account first\./);
    // One sentence, once: the Worker's message restates it and is not repeated.
    expect((await card.textContent())!.match(/link your account first/gi)).toHaveLength(1);
    await context.close();
  });

  it('reset means reset: after revoking Eshopbox and "Reset the sandbox", every vendor works on the next call', async () => {
    const context = await newContext();
    const page = await home(context);
    const card = (vendor: string) => page.locator('article', { has: page.locator(`#vendor-${vendor}`) });
    const call = async (vendor: string, expected: RegExp): Promise<void> => {
      await card(vendor).getByRole('button', { name: /^Call GET/ }).first().click();
      await expect.poll(() => card(vendor).textContent(), { timeout: 15_000 }).toMatch(expected);
    };
    await call('eshopbox', /200 OK/);
    const sandbox = page.locator('#sandbox-section');
    await sandbox.getByRole('button', { name: 'Revoke all tokens — Eshopbox' }).click();
    await expect.poll(() => page.locator('#sandbox-result').textContent(), { timeout: 10_000 }).toMatch(/Eshopbox: every token/);
    await call('eshopbox', /503/);
    await page.getByRole('button', { name: /Reset the sandbox/ }).click();
    await expect.poll(() => page.locator('#sandbox-result').textContent(), { timeout: 10_000 }).toMatch(/the Worker dropped its app tokens/);
    for (const vendor of ['instabox', 'eshopbox', 'instellix', 'shopware', 'instacart']) await call(vendor, /200 OK/);
    // Counters per vendor: Echo has its own token endpoint, so Instabox's two counts agree after it is called.
    await card('echo').getByRole('button', { name: /^Call GET \/headers/ }).click();
    await expect.poll(() => card('echo').textContent(), { timeout: 15_000 }).toMatch(/200 OK/);
    const live = (vendor: string) => page.locator('article', { has: page.locator(`#live-${vendor}`) });
    await expect.poll(() => live('echo').textContent(), { timeout: 10_000 }).toMatch(/1 by the Worker · 1 seen by the sandbox/);
    await expect.poll(() => live('instabox').textContent(), { timeout: 10_000 }).toMatch(/1 by the Worker · 1 seen by the sandbox/);
    await context.close();
  });

  it('links Instacart the token-mediating way: PKCE in the page, only an access token held', async () => {
    const context = await newContext();
    const page = await home(context);
    const card = page.locator('#link-instacart');
    await card.getByRole('button', { name: /Link \(this page runs PKCE\)/ }).click();
    await expect.poll(() => card.textContent(), { timeout: 15_000 }).toMatch(/Linked Instacart in token-mediating mode/);
    await shot(page, '04-mediated-linked');
    const stored = await dumpStorage(page);
    expect(stored).toContain('accessToken');
    expect(stored).not.toMatch(/refresh_?token/i);
    await context.close();
  });

  it('links a standard OAuth 2.0 server through its consent page', async () => {
    const context = await newContext();
    const page = await home(context);
    const card = page.locator('#link-oauth2');
    await card.getByRole('link', { name: /Link \(server keeps the tokens\)/ }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await shot(page, '05-consent');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: /account is linked/ }).waitFor();
    await card.getByRole('button', { name: /Call as me/ }).click();
    await expect.poll(() => card.textContent(), { timeout: 15_000 }).toMatch(/200 OK/);
    // Unlink revokes at the server too (RFC 7009), and the page says so.
    await card.getByRole('button', { name: /Unlink/ }).click();
    await expect.poll(() => card.textContent(), { timeout: 15_000 }).toMatch(/OAuth 2\.0 sandbox revoked them too/);
    await context.close();
  });

  it('shows a denied consent as an error with a way back', async () => {
    const context = await newContext();
    const page = await home(context);
    await page.locator('#link-oauth2').getByRole('link', { name: /Link \(server keeps the tokens\)/ }).click();
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByRole('heading', { name: /You did not link/ }).waitFor();
    await page.locator('#notice').getByRole('link', { name: 'Try again' }).waitFor();
    await shot(page, '06-consent-denied');
    await context.close();
  });

  it('shows a tampered state as an error, and nothing is linked', async () => {
    const context = await newContext();
    const page = await home(context);
    await page.locator('#link-oauth2').getByRole('link', { name: /Link \(server keeps the tokens\)/ }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    // An attacker's state: the form would carry it back to the Worker's callback.
    await page.evaluate(() => {
      const field = document.querySelector<HTMLInputElement>('input[name="state"]');
      if (field) field.value = 'forged-state-value';
    });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: /did not work/ }).waitFor();
    expect(await page.locator('#notice').textContent()).toContain('ERR_STATE_MISMATCH');
    await shot(page, '07-state-mismatch');
    await expect.poll(() => page.locator('#link-oauth2 [data-link-state]').textContent(), { timeout: 15_000 }).toMatch(/Not linked/);
    await context.close();
  });

  it('several tabs with an expired token make one refresh between them', async () => {
    const context = await newContext();
    const first = await home(context);
    await first.locator('#link-instacart').getByRole('button', { name: /Link \(this page runs PKCE\)/ }).click();
    await expect.poll(() => first.locator('#link-instacart').textContent(), { timeout: 15_000 }).toMatch(/token-mediating mode/);
    const tabs = [first, await home(context), await home(context), await home(context)];
    // Expire the stored access token (the Worker still holds the refresh token behind the session).
    // (Code as strings: the page imports the demo's own bundle, which the test runner must not rewrite.)
    await first.evaluate(`(async () => {
      const tg = await import('/dist/tokengate.js');
      const store = tg.idbStore();
      const key = tg.tokenKey('instacart');
      await store.set(key, { ...(await store.get(key)), expiresAt: Date.now() - 1000 });
    })()`);
    let refreshes = 0;
    context.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/token/instacart') refreshes++;
    });
    const tokens = await Promise.all(
      tabs.map(
        (tab) =>
          tab.evaluate(`(async () => {
            const tg = await import('/dist/tokengate.js');
            const token = await (await tg.mediatedSource('instacart')).getToken();
            return token.expiresAt ?? 0;
          })()`) as Promise<number>,
      ),
    );
    expect(refreshes).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toBeGreaterThan(Date.now());
    await context.close();
  });

  it('no secret and no refresh token in any page, storage, script-readable cookie or response', async () => {
    const context = await newContext();
    const page = await home(context);
    await page.locator('#link-instacart').getByRole('button', { name: /Link \(this page runs PKCE\)/ }).click();
    await expect.poll(() => page.locator('#link-instacart').textContent(), { timeout: 15_000 }).toMatch(/token-mediating mode/);
    const storage = await dumpStorage(page);
    const scripts = await page.evaluate(() => document.documentElement.outerHTML);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the response listeners finish
    expect(bodies.length).toBeGreaterThan(50);
    // A refresh token would show up as a JSON field with a value; the words alone are in the core's code.
    const refreshValue = /"refresh_?token"\s*:\s*"/i;
    for (const text of [storage, scripts, ...bodies.map((b) => b.text)]) {
      expect(text).not.toContain('sandbox-secret');
      expect(text).not.toMatch(refreshValue);
    }
    expect(stack.log()).not.toContain('sandbox-secret');
    await context.close();
  });
});

/**
 * After an embed linked Instacart on the storefront example page: the page heard the event, calls the
 * vendor as the shopper, and the element unlinks.
 */
async function linkedThenUnlink(page: Page, element: Locator, mode: 'bff' | 'mediated', screenshot: string): Promise<void> {
  await expect.poll(() => page.locator('#events').textContent(), { timeout: 15_000 }).toContain(`tokengate-linked: {"vendor":"instacart","mode":"${mode}"}`);
  await page.getByRole('button', { name: 'Who am I at Instacart?' }).click();
  await expect.poll(() => page.locator('#whoami-result').textContent(), { timeout: 15_000 }).toMatch(/^200/);
  await shot(page, screenshot);
  await element.getByRole('button', { name: /Unlink Instacart/ }).click();
  await element.getByText(/Your Instacart account is not linked/).waitFor({ timeout: 15_000 });
}

describe('the vendor sandbox, on its own origin', () => {
  it('a cross-site page cannot drive its controls: no-cors text/plain POSTs change nothing (row 22)', async () => {
    const instabox = { grant_type: 'client_credentials', client_id: 'sandbox-instabox-client', client_secret: credentials['instabox']!['clientSecret']! };
    const token = (): Promise<Response> => fetch(`${stack.sandboxOrigin}/instabox/v1/token`, { method: 'POST', body: new URLSearchParams(instabox) });
    expect((await token()).status).toBe(200);
    const before = (await (await fetch(`${stack.sandboxOrigin}/_stats`)).json()) as { tokenRequests: Record<string, number> };
    expect(before.tokenRequests['instabox']).toBeGreaterThan(0);
    const context = await newContext();
    const page = await context.newPage();
    // Any other site: a page of its own small server, opened as http://localhost:<port> (another site
    // than 127.0.0.1 to the browser; both loopback, so no local-network prompt stands in the way).
    const other = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Another site</title>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    await page.goto(`http://localhost:${(other.address() as AddressInfo).port}/`);
    const sent = await page.evaluate(async (sandbox) => {
      const simple = { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' } } as const;
      const faults = await fetch(`${sandbox}/_faults`, { ...simple, body: JSON.stringify({ vendor: 'instabox', fault: '5xx', count: 5 }) });
      const reset = await fetch(`${sandbox}/_reset`, { ...simple, body: '{}' });
      // A no-cors answer is opaque to the page: it cannot tell what happened.
      return [faults.type, reset.type];
    }, stack.sandboxOrigin);
    expect(sent).toEqual(['opaque', 'opaque']);
    // Not reset (the counter kept its count) and no fault armed (the next token request is answered).
    const after = (await (await fetch(`${stack.sandboxOrigin}/_stats`)).json()) as { tokenRequests: Record<string, number> };
    expect(after.tokenRequests['instabox']).toBe(before.tokenRequests['instabox']);
    expect((await token()).status).toBe(200);
    await context.close();
    other.close();
  });
});

describe('the storefront embed', () => {
  it('a page with only BFF elements never loads the token-mediating half', async () => {
    const context = await newContext();
    const page = await context.newPage();
    const scripts: string[] = [];
    const code: Promise<string>[] = [];
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'script') return;
      scripts.push(new URL(response.url()).pathname);
      code.push(response.text());
    });
    // A storefront page of its own on the Worker's origin: one script tag, one element.
    await page.route(`${stack.origin}/embed/bff-only.html`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><title>Shop</title><script type="module" src="/dist/tokengate-embed.js"></script><tokengate-link vendor="instacart" mode="bff"></tokengate-link>',
      }),
    );
    await page.goto(`${stack.origin}/embed/bff-only.html`);
    await page.getByText(/Your Instacart account is not linked/).waitFor();
    await page.getByRole('button', { name: /Link your Instacart account/ }).waitFor();
    expect(scripts).toContain('/dist/tokengate-embed.js');
    expect(scripts.filter((path) => path.startsWith('/dist/chunks/mediated-'))).toEqual([]);
    // No PKCE, no token checks: the core stayed on the server.
    for (const text of await Promise.all(code)) expect(text).not.toContain('code_challenge_method');
    await context.close();
  });

  it('links the BFF way from the storefront page and comes back to it', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${stack.origin}/embed/example.html?cart=7`);
    const bff = page.locator('tokengate-link[mode="bff"]');
    await bff.getByText(/Your Instacart account is not linked/).waitFor();
    // Static assets serve the page without its .html; the embed sends the path it was loaded at.
    const started = new URL(page.url());
    expect(started.search).toBe('?cart=7');
    await bff.getByRole('button', { name: 'Link your Instacart account' }).click();
    await bff.getByRole('status').getByText('Your Instacart account is linked.', { exact: true }).waitFor({ timeout: 15_000 });
    // Back on the page it started from; the embed took its `?linked=instacart` out of the address.
    await expect.poll(() => page.url(), { timeout: 5_000 }).toBe(`${stack.origin}${started.pathname}?cart=7`);
    // One link, one event, although the page has two elements for Instacart.
    await expect.poll(() => page.locator('#events li').allTextContents(), { timeout: 5_000 }).toEqual([expect.stringMatching(/^tokengate-linked: .*"mode":"bff"/)]);
    await linkedThenUnlink(page, bff, 'bff', '08-embed-bff-linked');
    await context.close();
  });

  it('takes its outcome out of the address: a reload announces nothing again, and after an unlink says one state', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${stack.origin}/embed/example.html?cart=7#basket`);
    const bff = page.locator('tokengate-link[mode="bff"]');
    await bff.getByRole('button', { name: 'Link your Instacart account' }).click();
    await bff.getByRole('status').getByText('Your Instacart account is linked.', { exact: true }).waitFor({ timeout: 15_000 });
    expect(new URL(page.url()).search).toBe('?cart=7');
    await expect.poll(() => page.locator('#events li').allTextContents(), { timeout: 5_000 }).toHaveLength(1);

    await page.reload();
    // The status line (with the token's time left), and nothing else says it.
    await bff.getByText(/^Your Instacart account is linked\./).waitFor({ timeout: 15_000 });
    await page.waitForLoadState('networkidle');
    expect(await bff.getByText(/account is linked/).count()).toBe(1);
    // No second tokengate-linked, and the outcome line is not said again.
    expect(await page.locator('#events li').allTextContents()).toEqual([]);
    expect(await bff.locator('[part=message]').textContent()).toBe('');

    await bff.getByRole('button', { name: 'Unlink Instacart' }).click();
    await bff.getByText('Your Instacart account is not linked.').waitFor({ timeout: 15_000 });
    await page.reload();
    await bff.getByText('Your Instacart account is not linked.').waitFor({ timeout: 15_000 });
    await page.waitForLoadState('networkidle');
    expect(await bff.getByText(/account is linked/).count()).toBe(0);

    // An old address with the outcome in it: the Worker says not linked, so the element does too, once.
    await page.goto(`${stack.origin}/embed/example.html?cart=7&linked=instacart`);
    await bff.getByText('Your Instacart account is not linked.').waitFor({ timeout: 15_000 });
    await page.waitForLoadState('networkidle');
    expect(new URL(page.url()).search).toBe('?cart=7');
    expect(await bff.getByText(/account is linked/).count()).toBe(0);
    expect(await page.locator('#events li').allTextContents()).toEqual([]);
    await context.close();
  });

  it('links in mediated mode from the storefront page, loading that half on use', async () => {
    const context = await newContext();
    const page = await context.newPage();
    const scripts: string[] = [];
    page.on('request', (request) => {
      if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
    });
    const mediatedChunks = (): string[] => scripts.filter((path) => path.startsWith('/dist/chunks/mediated-'));
    await page.goto(`${stack.origin}/embed/example.html`);
    const mediated = page.locator('tokengate-link[mode="mediated"]');
    const link = mediated.getByRole('button', { name: 'Link Instacart from this page' });
    await link.waitFor();
    // Every element has read its state from the Worker and the page is quiet: a chunk fetched at page
    // load (on connect, on the first status read) would have been requested by now.
    await page.waitForLoadState('networkidle');
    expect(scripts).toContain('/dist/tokengate-embed.js');
    expect(mediatedChunks()).toEqual([]);
    await link.click();
    // The element's text is in its (open) shadow root, which locators pierce.
    await mediated.getByText(/Your Instacart account is linked\. Access token: .* left\./).waitFor({ timeout: 15_000 });
    expect(mediatedChunks()).not.toEqual([]);
    await linkedThenUnlink(page, mediated, 'mediated', '09-embed-mediated-linked');
    await context.close();
  });
});

/** localStorage, sessionStorage and every IndexedDB database of the page, as one string. */
async function dumpStorage(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const out: string[] = [JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })];
    for (const info of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(info.name!);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const name of Array.from(db.objectStoreNames)) {
        const values = await new Promise<unknown[]>((resolve, reject) => {
          const request = db.transaction(name).objectStore(name).getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        out.push(JSON.stringify(values));
      }
      db.close();
    }
    return out.join('\n');
  });
}
