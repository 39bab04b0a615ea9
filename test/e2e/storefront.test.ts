import { readFileSync } from 'node:fs';
import { createServer, request as forward, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../helpers/chromium.js';
import { codeBlocks } from './readme-blocks.js';
import { freePort, startStack, type Stack } from './stack.js';

// The storefront embed on a storefront the Worker does not serve (issue 17), in Debian's Chromium:
// the page comes from a separate small server, the Worker is npm start's, configured with the README's
// own "Put it in front of your storefront" settings.
//
// Why these host names model the real case: Chromium treats `localhost` and every `*.localhost` name
// as loopback and as a secure context, so `Secure` and `__Host-` cookies work over plain http there,
// as on https://shop.example. `shop.localhost` and `edge.shop.localhost` are two origins of one site
// (the browser sends `Sec-Fetch-Site: same-site` between them and keeps SameSite=Strict cookies), as
// shop.example and edge.shop.example are; `127.0.0.1` is another site to both, as tokengate.example
// would be. The first test checks exactly these three facts, so a Chromium that saw it differently
// fails there rather than somewhere confusing. The host resolver rule only pins *.localhost to
// 127.0.0.1 (where wrangler listens); no name leaves the machine.

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const SHOP = 'https://shop.example';
const EDGE = 'https://edge.shop.example';

/** The `[env.production.vars]` and `routes` of the README's toml block under `heading`. */
function readmeSettings(heading: RegExp): { vars: Record<string, string | string[]>; routes: string } {
  const block = codeBlocks(README).find((candidate) => candidate.lang === 'toml' && heading.test(candidate.heading));
  if (block === undefined) throw new Error(`README has no toml block under ${heading}`);
  const vars: Record<string, string | string[]> = {};
  let inVars = false;
  let routes = '';
  for (const line of block.code.split('\n')) {
    if (/^\[/.test(line)) inVars = line.trim() === '[env.production.vars]';
    const pair = /^([A-Z_]+|routes) = (.+)$/.exec(line.trim());
    if (pair === null) continue;
    if (pair[1] === 'routes') routes = pair[2]!;
    // TOML's basic strings and arrays of them are JSON.
    else if (inVars) vars[pair[1]!] = JSON.parse(pair[2]!) as string | string[];
  }
  return { vars, routes };
}

/** `--var` arguments from README settings, with its example origins mapped onto the loopback ones. */
function varArgs(vars: Record<string, string | string[]>, origins: Record<string, string>, extraAllowed: string[] = []): string[] {
  const map = (value: string): string => {
    const mapped = origins[value];
    if (mapped === undefined) throw new Error(`the README names ${value}, which this test does not model`);
    return mapped;
  };
  const args: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    const text = name === 'ALLOWED_ORIGINS' ? [...(value as string[]).map(map), ...extraAllowed].join(',') : name === 'PUBLIC_ORIGIN' ? map(value as string) : (value as string);
    args.push('--var', `${name}:${text}`);
  }
  return args;
}

let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, '--host-resolver-rules=MAP *.localhost 127.0.0.1'] });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.close();
});

async function listen(port: number, handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  servers.push(server);
  return server;
}

/**
 * The storefront's checkout page: its own global CSS (which must not reach into the element, nor the
 * element's reach out), one button before the elements, both modes, and a `call()` button.
 */
function checkoutPage(script: string, options: { worker?: string; bffOnly?: boolean } = {}): string {
  const attribute = options.worker === undefined ? '' : ` worker="${options.worker}"`;
  const mediated = options.bffOnly ? '' : `<tokengate-link vendor="instacart" mode="mediated" label="Link Instacart from this page"${attribute}></tokengate-link>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Shop checkout</title>
<style>
  button { background-color: rgb(255, 0, 0) !important; border-radius: 0; }
  p { letter-spacing: 3px; }
  tokengate-link.themed { --tokengate-accent: rgb(47, 93, 58); }
  tokengate-link::part(status) { font-style: italic; }
</style>
<script type="module" src="${script}"></script></head>
<body><h1>Checkout</h1>
<button type="button" id="coupon">Apply coupon</button>
<tokengate-link class="themed" vendor="instacart" mode="bff"${attribute}></tokengate-link>
${mediated}
<tokengate-link class="plain" vendor="instacart" mode="bff"${attribute}></tokengate-link>
<button type="button" id="whoami">Who am I at Instacart?</button>
<output id="whoami-result"></output>
<ul id="events"></ul>
<script type="module">
  import { call } from '${script}';
  const out = document.getElementById('whoami-result');
  document.getElementById('whoami').addEventListener('click', async () => {
    const response = await call('instacart', '/v2/fulfillment/users/self');
    out.textContent = response.status + ' ' + (await response.text());
  });
  for (const type of ['tokengate-linked', 'tokengate-unlinked', 'tokengate-error']) {
    document.addEventListener(type, (event) => {
      const li = document.createElement('li');
      li.textContent = type + ': ' + JSON.stringify(event.detail);
      document.getElementById('events').append(li);
      for (const element of document.querySelectorAll('tokengate-link')) if (element !== event.target) element.refresh();
    });
  }
</script></body></html>`;
}

/** Serves the checkout page at /checkout (and one with BFF elements only at /bff-only), and counts what else was asked of the shop's server. */
function storefront(script: string, seen: string[]) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    seen.push(request.url ?? '');
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/checkout' || path === '/bff-only') response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(checkoutPage(script, { bffOnly: path === '/bff-only' }));
    else response.writeHead(404, { 'content-type': 'text/plain' }).end('not the shop’s');
  };
}

async function newContext(): Promise<{ context: BrowserContext; bodies: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const bodies: string[] = [];
  context.on('response', (response) => void response.text().then((text) => bodies.push(text), () => undefined));
  return { context, bodies };
}

/** The deepest focused element: its tag and text (focus inside a shadow root shows as its host). */
const focused = (page: Page): Promise<string> =>
  page.evaluate(() => {
    let active: Element | null = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    return `${active?.tagName.toLowerCase()}: ${active?.textContent?.trim()}`;
  });

/**
 * Both modes and `call()` from the storefront page at `checkout`: BFF there and back, then the
 * Worker's view through `call()`, unlink; then mediated, by keyboard only, with its outcome in the
 * live region, then unlink. Answers what every response said, for the leak scan.
 */
async function linkBothWays(checkout: string, workerHost: string): Promise<{ bodies: string[]; context: BrowserContext; page: Page }> {
  const { context, bodies } = await newContext();
  const page = await context.newPage();
  await page.goto(`${checkout}?cart=7`);
  const bff = page.locator('tokengate-link.themed');
  const mediated = page.locator('tokengate-link[mode="mediated"]');
  await bff.getByText('Your Instacart account is not linked.').waitFor({ timeout: 15_000 });

  await bff.getByRole('button', { name: 'Link your Instacart account' }).click();
  await bff.getByText('Your Instacart account is linked.', { exact: true }).first().waitFor({ timeout: 15_000 });
  // Back on the storefront page, without the outcome the embed has taken out of the address.
  await expect.poll(() => page.url(), { timeout: 5_000 }).toBe(`${checkout}?cart=7`);
  await expect.poll(() => page.locator('#events li').allTextContents(), { timeout: 5_000 }).toEqual([expect.stringMatching(/^tokengate-linked: .*"mode":"bff"/)]);
  const cookies = await context.cookies();
  const session = cookies.find((cookie) => cookie.name === '__Host-tg_session');
  expect(session).toMatchObject({ domain: workerHost, path: '/', secure: true, httpOnly: true, sameSite: 'Strict' });
  expect(await page.evaluate(() => document.cookie)).toBe('');
  await page.getByRole('button', { name: 'Who am I at Instacart?' }).click();
  await expect.poll(() => page.locator('#whoami-result').textContent(), { timeout: 15_000 }).toMatch(/^200 /);
  await bff.getByRole('button', { name: 'Unlink Instacart' }).click();
  await bff.getByRole('status').getByText('Your Instacart account is unlinked.').waitFor({ timeout: 15_000 });
  await mediated.getByText('Your Instacart account is not linked.').waitFor({ timeout: 15_000 });

  // Token-mediating, by keyboard: Tab order is the page's button, then each element's button.
  await page.locator('#coupon').focus();
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('button: Link your Instacart account');
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('button: Link Instacart from this page');
  await page.keyboard.press('Enter');
  await mediated.getByRole('status').getByText('Your Instacart account is linked.').waitFor({ timeout: 15_000 });
  // The link button is gone: focus stays in the element, on the one that undoes it.
  expect(await focused(page)).toBe('button: Unlink Instacart');
  await page.locator('#whoami-result').evaluate((element) => (element.textContent = ''));
  await page.getByRole('button', { name: 'Who am I at Instacart?' }).click();
  await expect.poll(() => page.locator('#whoami-result').textContent(), { timeout: 15_000 }).toMatch(/^200 /);
  await mediated.getByRole('button', { name: 'Unlink Instacart' }).focus();
  await page.keyboard.press('Enter');
  await mediated.getByRole('status').getByText('Your Instacart account is unlinked.').waitFor({ timeout: 15_000 });
  expect(await focused(page)).toBe('button: Link Instacart from this page');
  return { bodies, context, page };
}

/** What the sandbox's canary secrets and any refresh token look like in a response. */
function expectNoLeak(bodies: string[]): void {
  for (const text of bodies) {
    expect(text).not.toContain('sandbox-secret');
    // A refresh token as a JSON value ("refresh_token": "…"); scripts may name the field.
    expect(text).not.toMatch(/"refresh_token"\s*:\s*"/);
  }
}

describe('the host names model shop.example, edge.shop.example and another site', () => {
  it('*.localhost is a secure context; shop. and edge.shop. are one site with __Host- cookies; 127.0.0.1 is another site', async () => {
    const seen: { site: string | undefined; cookie: string }[] = [];
    const asked = (url: string | undefined): boolean => url === '/set' || url === '/check';
    const port = await freePort();
    await listen(port, (request, response) => {
      if (asked(request.url)) seen.push({ site: request.headers['sec-fetch-site'] as string | undefined, cookie: request.headers.cookie ?? '' });
      const headers: Record<string, string | string[]> = { 'content-type': 'text/html' };
      if (typeof request.headers.origin === 'string') Object.assign(headers, { 'access-control-allow-origin': request.headers.origin, 'access-control-allow-credentials': 'true' });
      if (request.url === '/set') headers['set-cookie'] = ['__Host-probe=1; Path=/; Secure; HttpOnly; SameSite=Strict'];
      response.writeHead(200, headers).end('<title>x</title>');
    });
    const page = await browser.newPage();
    const results: Record<string, { secure: boolean; seen: typeof seen }> = {};
    for (const shop of ['shop.localhost', '127.0.0.1']) {
      await page.goto(`http://${shop}:${port}/`);
      seen.length = 0;
      const secure = await page.evaluate(async (edge) => {
        await fetch(`${edge}/set`, { credentials: 'include' });
        await fetch(`${edge}/check`, { credentials: 'include' });
        return window.isSecureContext;
      }, `http://edge.shop.localhost:${port}`);
      results[shop] = { secure, seen: [...seen] };
    }
    expect(results['shop.localhost']).toEqual({ secure: true, seen: [{ site: 'same-site', cookie: '' }, { site: 'same-site', cookie: '__Host-probe=1' }] });
    expect(results['127.0.0.1']!.seen.map((entry) => entry.site)).toEqual(['cross-site', 'cross-site']);
    expect(results['127.0.0.1']!.seen.every((entry) => !entry.cookie.includes('__Host-probe'))).toBe(true);
    await page.close();
  });
});

describe('a sibling host: the storefront on shop.localhost, the Worker on edge.shop.localhost', () => {
  let stack: Stack;
  let shop: string;
  let edge: string;
  let crossSite: string;
  const shopSeen: string[] = [];

  beforeAll(async () => {
    const [shopPort, workerPort, otherPort] = [await freePort(), await freePort(), await freePort()];
    shop = `http://shop.localhost:${shopPort}`;
    edge = `http://edge.shop.localhost:${workerPort}`;
    crossSite = `http://127.0.0.1:${otherPort}`;
    const { vars, routes } = readmeSettings(/sibling host/);
    // The README's route is the Worker's own host, a custom domain.
    expect(routes).toBe(`[{ pattern = "${new URL(EDGE).host}", custom_domain = true }]`);
    expect(vars['PUBLIC_ORIGIN']).toBe(EDGE);
    // The other site is listed too, so that only the cookie stands between it and the Worker.
    stack = await startStack({ port: workerPort, workerArgs: varArgs(vars, { [SHOP]: shop, [EDGE]: edge }, [crossSite]) });
    const script = `${edge}/dist/tokengate-embed.js`;
    await listen(shopPort, storefront(script, shopSeen));
    await listen(otherPort, storefront(script, []));
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('links both ways and calls the vendor from the storefront page; the session cookie is the Worker host’s', async () => {
    const { bodies, context } = await linkBothWays(`${shop}/checkout`, 'edge.shop.localhost');
    // The shop's own server served its page and nothing else: every Worker call went to the Worker.
    expect(new Set(shopSeen.map((url) => new URL(url, 'http://x').pathname))).toEqual(new Set(['/checkout']));
    expectNoLeak(bodies);
    await context.close();
  }, 90_000);

  it('a page of another site hears on load that linking cannot work there, in words and as cross_site_worker', async () => {
    const { context } = await newContext();
    const page = await context.newPage();
    const workerCalls: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(edge) && !request.url().includes('/dist/')) workerCalls.push(new URL(request.url()).pathname);
    });
    await page.goto(`${crossSite}/checkout`);
    const bff = page.locator('tokengate-link[mode="bff"]');
    await bff.first().getByRole('status').getByText(/Account linking cannot work on this page: tokengate runs at .*another site/).waitFor({ timeout: 15_000 });
    await bff.first().getByText('Linking your Instacart account is not available on this page.').waitFor();
    // One event per element, each with the stable code.
    await expect.poll(() => page.locator('#events li').allTextContents(), { timeout: 5_000 }).toEqual(Array.from({ length: 3 }, () => expect.stringMatching(/^tokengate-error: .*"code":"cross_site_worker"/)));
    const button = bff.first().getByRole('button', { name: 'Link your Instacart account' });
    expect(await button.getAttribute('aria-disabled')).toBe('true');
    // Still in the focus order, with its reason beside it; pressing it does nothing.
    await button.focus();
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    // Two probes, shared by both elements; no link was started, no status asked.
    expect(workerCalls).toEqual(['/session/probe', '/session/probe']);
    expect(page.url()).toBe(`${crossSite}/checkout`);
    await context.close();
  }, 60_000);

  it('is a component: no CSS in or out, its parts and custom properties style it, one live region, no OAuth code in BFF', async () => {
    const { context } = await newContext();
    const page = await context.newPage();
    const scripts: Promise<string>[] = [];
    page.on('response', (response) => {
      if (response.request().resourceType() === 'script') scripts.push(response.text());
    });
    await page.goto(`${shop}/bff-only`);
    await page.locator('tokengate-link.plain').getByText('Your Instacart account is not linked.').waitFor({ timeout: 15_000 });
    const styles = await page.evaluate(() => {
      const themed = document.querySelector('tokengate-link.themed')!.shadowRoot!;
      const plain = document.querySelector('tokengate-link.plain')!.shadowRoot!;
      const style = (element: Element | null | undefined) => (element ? getComputedStyle(element) : undefined);
      const inner = style(themed!.querySelector('button'));
      return {
        themedButton: inner?.backgroundColor,
        plainButton: style(plain!.querySelector('button'))?.backgroundColor,
        innerRadius: inner?.borderTopLeftRadius,
        pageButton: style(document.getElementById('coupon'))?.backgroundColor,
        pageRadius: style(document.getElementById('coupon'))?.borderTopLeftRadius,
        statusStyle: style(themed!.querySelector('[part~="status"]'))?.fontStyle,
        statusSpacing: style(themed!.querySelector('[part~="status"]'))?.letterSpacing,
        liveRegions: [...themed!.querySelectorAll('[aria-live], [role="status"], [role="alert"]')].map((element) => element.getAttribute('part')),
        adopted: themed!.adoptedStyleSheets.length,
        styleElements: document.querySelectorAll('style').length + themed!.querySelectorAll('style').length,
      };
    });
    expect(styles).toEqual({
      themedButton: 'rgb(47, 93, 58)', // --tokengate-accent from the page
      plainButton: 'rgb(29, 78, 216)', // the element's default accent, not the page's red button rule
      innerRadius: '6px',
      pageButton: 'rgb(255, 0, 0)',
      pageRadius: '0px', // the element's button rule stays inside
      statusStyle: 'italic', // ::part(status)
      statusSpacing: 'normal', // the page's `p` rule does not reach the element's paragraphs
      liveRegions: ['message'],
      adopted: 1,
      styleElements: 1, // the page's own; the element adds none
    });
    // BFF only: no PKCE code was loaded.
    for (const text of await Promise.all(scripts)) expect(text).not.toContain('code_challenge_method');
    await context.close();
  }, 60_000);
});

describe('a path of the shop’s host: the Worker under shop.localhost/tokengate/*', () => {
  let stack: Stack;
  let shop: string;
  const shopSeen: string[] = [];
  const workerSeen: string[] = [];

  beforeAll(async () => {
    const [shopPort, workerPort] = [await freePort(), await freePort()];
    shop = `http://shop.localhost:${shopPort}`;
    const { vars, routes } = readmeSettings(/path of the shop/);
    const base = vars['BASE_PATH'] as string;
    // The README's route is the shop's host under BASE_PATH.
    expect(routes).toBe(`[{ pattern = "${new URL(SHOP).host}${base}/*", zone_name = "${new URL(SHOP).host}" }]`);
    stack = await startStack({ port: workerPort, workerArgs: varArgs(vars, { [SHOP]: shop }), healthPath: `${base}/healthz` });
    // What the Workers Route does in production: this host's base path goes to the Worker (path and
    // Host unchanged), everything else to the shop system.
    const shopSystem = storefront(`${base}/dist/tokengate-embed.js`, shopSeen);
    await listen(shopPort, (request, response) => {
      const url = request.url ?? '/';
      if (url !== base && !url.startsWith(`${base}/`)) return shopSystem(request, response);
      workerSeen.push(url);
      const upstream = forward({ host: '127.0.0.1', port: workerPort, method: request.method, path: url, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', () => response.writeHead(502).end());
      request.pipe(upstream);
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('links both ways and calls the vendor; every Worker URL is under the base path, the cookies __Host- with Path=/', async () => {
    const { bodies, context } = await linkBothWays(`${shop}/checkout`, 'shop.localhost');
    const paths = (urls: string[]) => new Set(urls.map((url) => new URL(url, 'http://x').pathname.replace(/\/(?:chunks\/[^/]+|instacart\/[a-z]+|instacart)$/, '/…')));
    // The shop system saw only its page; the embed, its chunks, the probe-free linking and the API
    // calls, the redirect URI the vendor came back to: all under /tokengate.
    expect(paths(shopSeen)).toEqual(new Set(['/checkout']));
    expect(workerSeen.some((url) => url.startsWith('/tokengate/link/instacart/callback?'))).toBe(true);
    expect(workerSeen.some((url) => url.startsWith('/tokengate/dist/chunks/mediated-'))).toBe(true);
    for (const path of ['/tokengate/dist/tokengate-embed.js', '/tokengate/link/instacart/start', '/tokengate/token/instacart', '/tokengate/api/instacart/v2/fulfillment/users/self']) {
      expect(workerSeen.some((url) => url.startsWith(path)), path).toBe(true);
    }
    // Same origin: no probe needed.
    expect(workerSeen.some((url) => url.includes('/session/probe'))).toBe(false);
    expectNoLeak(bodies);
    await context.close();
  }, 90_000);

  it('answers nothing outside its base path', async () => {
    // (Its static files at the root stay with the asset layer; in production the route sends only
    // /tokengate/* to the Worker, so they are never reachable there.)
    for (const path of ['/healthz', '/link/instacart/status', '/token/instacart', '/session/probe', '/api/instacart/v2/fulfillment/stores']) {
      expect((await fetch(`${stack.origin}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${stack.origin}/tokengate/link/instacart/status`)).status).toBe(200);
  });
});
