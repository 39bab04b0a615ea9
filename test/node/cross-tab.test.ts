import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumPath, chromiumArgs } from '../helpers/chromium.js';

// Several tabs of one origin in real Chromium share IndexedDB and Web Locks: when their token has
// expired, one tab refreshes and the others read its result from the store.
let KEY = ''; // tokengate:oauth2:spa@127.0.0.1:<port>, set once the server listens
let server: Server;
let origin: string;
let browser: Browser;
const seen = { refreshTokens: [] as string[] };
let liveRefresh = 'rt-0';
let issued = 0;

const page = `<!doctype html><meta charset="utf-8"><title>tab</title><script type="module" src="/bundle.js"></script>`;

beforeAll(async () => {
  const bundle = await build({
    stdin: {
      contents: `
        import { createTokenSource } from './src/index.ts';
        import { idbStore, webLock } from './src/browser/index.ts';
        import { oauth2 } from './src/profiles/index.ts';
        window.tokengate = { createTokenSource, idbStore, webLock, oauth2 };`,
      resolveDir: new URL('../../', import.meta.url).pathname,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
  });
  const js = bundle.outputFiles[0]!.text;
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.url === '/bundle.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    if (req.url === '/token' && req.method === 'POST') {
      const params = new URLSearchParams(body);
      const presented = params.get('refresh_token') ?? '';
      seen.refreshTokens.push(presented);
      await new Promise((resolve) => setTimeout(resolve, 300)); // a slow token endpoint widens any race
      res.writeHead(presented === liveRefresh ? 200 : 400, { 'content-type': 'application/json' });
      if (presented !== liveRefresh) return res.end(JSON.stringify({ error: 'invalid_grant' }));
      issued++;
      liveRefresh = `rt-${issued}`; // rotation: the presented refresh token is now dead
      return res.end(JSON.stringify({ access_token: `at-${issued}`, token_type: 'Bearer', expires_in: 3600, refresh_token: liveRefresh }));
    }
    return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  KEY = `tokengate:oauth2:spa@${new URL(origin).host}`;
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

beforeEach(() => {
  seen.refreshTokens = [];
  liveRefresh = 'rt-0';
  issued = 0;
});

async function openTabs(count: number, useLock: boolean): Promise<Page[]> {
  const context = await browser.newContext();
  const tabs: Page[] = [];
  for (let i = 0; i < count; i++) {
    const tab = await context.newPage();
    await tab.goto(origin);
    await tab.waitForFunction(() => 'tokengate' in window);
    await tab.evaluate(
      ({ tokenUrl, useLock }) => {
        const tg = (window as unknown as { tokengate: Record<string, (...a: unknown[]) => unknown> }).tokengate;
        const profile = tg['oauth2']!({ tokenUrl, clientId: 'spa' });
        const options = useLock ? { store: tg['idbStore']!(), lock: tg['webLock'] } : { store: tg['idbStore']!() };
        (window as unknown as { source: unknown }).source = tg['createTokenSource']!(profile, options);
      },
      { tokenUrl: `${origin}/token`, useLock },
    );
    tabs.push(tab);
  }
  // The linked session, already expired, as the first tab stored it.
  await tabs[0]!.evaluate(
    async ({ key }) => {
      const tg = (window as unknown as { tokengate: Record<string, () => { set(k: string, v: unknown): Promise<void> }> }).tokengate;
      await tg['idbStore']!().set(key, { accessToken: 'at-0', tokenType: 'Bearer', expiresAt: Date.now() - 1000, refreshToken: 'rt-0' });
    },
    { key: KEY },
  );
  return tabs;
}

const getToken = (tab: Page): Promise<string> =>
  tab.evaluate(() =>
    (window as unknown as { source: { getToken(): Promise<{ accessToken: string }> } }).source.getToken().then(
      (t) => t.accessToken,
      (e: Error & { code?: string }) => `error:${e.code}`,
    ),
  );

describe('cross-tab refresh in Chromium', () => {
  it('four tabs with an expired token make one refresh and share its result', async () => {
    const tabs = await openTabs(4, true);
    const tokens = await Promise.all(tabs.map(getToken));
    expect(seen.refreshTokens).toEqual(['rt-0']);
    expect(tokens).toEqual(['at-1', 'at-1', 'at-1', 'at-1']);
    await tabs[0]!.context().close();
  });

  it('without the lock each tab refreshes, and rotation then locks all but one out (why the lock exists)', async () => {
    const tabs = await openTabs(4, false);
    const tokens = await Promise.all(tabs.map(getToken));
    expect(seen.refreshTokens.length).toBeGreaterThan(1);
    expect(tokens.filter((t) => t === 'error:ERR_LINK_REQUIRED').length).toBeGreaterThan(0);
    await tabs[0]!.context().close();
  });
});
