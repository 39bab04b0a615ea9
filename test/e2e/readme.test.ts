import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../helpers/chromium.js';
import { codeBlocks, type CodeBlock } from './readme-blocks.js';
import { startStack, type Stack } from './stack.js';

// Every fenced block of README.md, run as written against npm start's stack: `sh` in a shell,
// `ts` in Node (bundled by esbuild, the package names resolved to src/ through package.json's
// exports), `html` as a page of the Worker's origin in Chromium, and a ts block marked
// `<!-- readme-test: browser (…) -->` as the module of a page in Chromium. The only thing filled in is what
// the README itself says: PORT and SANDBOX_PORT change the ports of http://127.0.0.1:8787 and :8788.
// A block marked `<!-- readme-test: skip (why) -->` is reported as skipped; any other block this
// test cannot run fails. Every ts block, skipped or not, is also type-checked against src/.

const root = new URL('../../', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = codeBlocks(readme);
const README_WORKER = 'http://127.0.0.1:8787';
const README_SANDBOX = 'http://127.0.0.1:8788';
/** Bounded time for one example. */
const EXAMPLE_TIMEOUT_MS = 30_000;

let stack: Stack;
let browser: Browser | undefined;
const temp = mkdtempSync(join(tmpdir(), 'tokengate-readme-'));

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(temp, { recursive: true, force: true });
});

/** The README's URLs with the stack's ports, as PORT and SANDBOX_PORT would make them. */
function withStackPorts(text: string): string {
  return text.replaceAll(README_WORKER, stack.origin).replaceAll(README_SANDBOX, stack.sandboxOrigin);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: temp, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: EXAMPLE_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const port = (origin: string): string => new URL(origin).port;

/** For curl and the like: everything but 127.0.0.1 goes to a proxy that is not there. */
const NO_NETWORK = { http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', ALL_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' };

/** `sh`: the block in `sh -e`, with PORT and SANDBOX_PORT set as for npm start. */
async function runShell(block: CodeBlock): Promise<void> {
  const result = await run('sh', ['-ec', withStackPorts(block.code)], { ...NO_NETWORK, PORT: port(stack.origin), SANDBOX_PORT: port(stack.sandboxOrigin) });
  expect(result, result.stderr).toMatchObject({ code: 0 });
  expect(result.stdout.trim(), 'the example printed nothing').not.toBe('');
}

/** tokengate and tokengate/<entry> → the TypeScript source that package.json's export is built from. */
const packageSources: Plugin = {
  name: 'tokengate-sources',
  setup(builder) {
    const { exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { default?: string }> };
    const entries = new Map<string, string>();
    for (const [subpath, target] of Object.entries(exports)) {
      if (typeof target === 'string') continue;
      const built = target.default?.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      if (built !== undefined) entries.set(`tokengate${subpath.slice(1)}`, join(root, built));
    }
    builder.onResolve({ filter: /^tokengate(\/|$)/ }, ({ path }) => {
      const source = entries.get(path);
      return source === undefined ? { errors: [{ text: `${path} is not an entry of package.json's exports` }] } : { path: source };
    });
  },
};

/**
 * Loaded before the example: fetch reaches the stack on 127.0.0.1 only, and reports each answer on
 * stderr so the test sees every status.
 */
const FETCH_GUARD = `
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  if (new URL(request.url).hostname !== '127.0.0.1') throw new TypeError('readme-test: ' + request.url + ' is not on the stack');
  const response = await realFetch(request);
  process.stderr.write('readme-fetch ' + response.status + ' ' + request.method + ' ' + request.url + '\\n');
  return response;
};
`;

/** `ts`: bundled with the package names resolved to src/, then run by this Node. */
async function runNode(block: CodeBlock): Promise<void> {
  const dir = mkdtempSync(join(temp, `line-${block.line}-`));
  writeFileSync(join(dir, 'guard.mjs'), FETCH_GUARD);
  writeFileSync(join(dir, 'example.ts'), withStackPorts(block.code));
  writeFileSync(join(dir, 'main.mjs'), "import './guard.mjs';\nimport './example.ts';\n");
  const outfile = join(dir, 'bundle.mjs');
  await build({
    entryPoints: [join(dir, 'main.mjs')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    nodePaths: [join(root, 'node_modules')],
    plugins: [packageSources],
    logLevel: 'silent',
  });
  const result = await run(process.execPath, [outfile], {});
  expect(result, result.stderr).toMatchObject({ code: 0 });
  const failed = result.stderr.split('\n').filter((line) => /^readme-fetch [45]\d\d /.test(line));
  expect(failed).toEqual([]);
}

/**
 * `html`: the block as a page of the Worker's origin. It must load without a script error or a
 * failed answer, and every custom element in it must be defined and render something.
 */
/** A page in a fresh browser context, and the script errors and console errors it reports. */
async function watchedPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  browser ??= await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (message) => void (message.type() === 'error' && problems.push(`console error: ${message.text()}`)));
  return { context, page, problems };
}

async function runPage(block: CodeBlock): Promise<void> {
  const { context, page, problems } = await watchedPage();
  try {
    page.on('response', (response) => void (response.status() >= 400 && problems.push(`${response.status()} ${response.url()}`)));
    const path = `/readme-test/line-${block.line}.html`;
    await page.route(
      (url) => url.origin === stack.origin && url.pathname === path,
      (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>README line ${block.line}</title>\n${withStackPorts(block.code)}` }),
    );
    await page.goto(`${stack.origin}${path}`, { waitUntil: 'networkidle' });
    const elements = await page.evaluate(() =>
      [...document.querySelectorAll('*')]
        .filter((element) => element.localName.includes('-'))
        .map((element) => ({
          name: element.localName,
          defined: customElements.get(element.localName) !== undefined,
          text: (element.shadowRoot ?? element).textContent?.trim() ?? '',
        })),
    );
    expect(problems.join('\n')).toBe('');
    for (const element of elements) {
      expect(element.defined, `<${element.name}> is not defined`).toBe(true);
      expect(element.text, `<${element.name}> rendered nothing`).not.toBe('');
    }
  } finally {
    await context.close();
  }
}

/** Token requests the sandbox's standard OAuth 2.0 server has seen. */
async function oauth2TokenRequests(): Promise<number> {
  const stats = (await (await fetch(`${stack.sandboxOrigin}/_stats`)).json()) as { tokenRequests: Record<string, number> };
  return stats.tokenRequests['oauth2'] ?? 0;
}

/**
 * A ts block marked `browser`: bundled for browsers (the package names resolved to src/) and served
 * as the one module of two pages of a page server on 127.0.0.1, the one the test opens and `/callback`,
 * where the server's consent page sends the browser back. The test gives the consent (the page's
 * Allow button, what a shopper would press); the example must then finish on /callback with no script
 * error, after exactly one token request, and a reload of /callback must send nothing again.
 */
const servers: Server[] = [];

async function runBrowser(block: CodeBlock): Promise<void> {
  const dir = mkdtempSync(join(temp, `line-${block.line}-`));
  writeFileSync(join(dir, 'example.ts'), withStackPorts(block.code));
  // The mark runs only once the example's top-level awaits have all finished.
  writeFileSync(join(dir, 'main.ts'), "import './example.ts';\ndocument.documentElement.dataset['readmeDone'] = location.pathname;\n");
  const built = await build({
    entryPoints: [join(dir, 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    nodePaths: [join(root, 'node_modules')],
    plugins: [packageSources],
    logLevel: 'silent',
  });
  const script = built.outputFiles[0]!.text;
  const { context, page, problems } = await watchedPage();
  try {
    const start = `/readme-test/line-${block.line}.html`;
    const module = `/readme-test/line-${block.line}.js`;
    const html = `<!doctype html><meta charset="utf-8"><title>README line ${block.line}</title><script type="module" src="${module}"></script>`;
    // A real server on 127.0.0.1 (a page Playwright made up would not count as loopback to Chromium's
    // local-network checks), serving the start page, /callback and the module.
    const pages = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
      if (path === module) response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else if (path === start || path === '/callback') response.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else response.writeHead(204).end(); // favicon.ico and the like
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    servers.push(pages);
    const origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    const before = await oauth2TokenRequests();
    await page.goto(`${origin}${start}`);
    // On failure, say where the page got to and what it reported.
    const where = async (error: unknown): Promise<never> => {
      throw new Error(`${(error as Error).message}\nat ${page.url()}\n${problems.join('\n')}`);
    };
    await page.getByRole('button', { name: 'Allow' }).click({ timeout: EXAMPLE_TIMEOUT_MS }).catch(where);
    await page.waitForFunction(() => document.documentElement.dataset['readmeDone'] === '/callback', undefined, { timeout: EXAMPLE_TIMEOUT_MS }).catch(where);
    expect(problems.join('\n')).toBe('');
    expect((await oauth2TokenRequests()) - before).toBe(1);
    // A reload of /callback sends nothing again: the code left the address bar, the transaction its store.
    expect(new URL(page.url()).search).toBe('');
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset['readmeDone'] === '/callback', undefined, { timeout: EXAMPLE_TIMEOUT_MS }).catch(where);
    expect(problems.join('\n')).toBe('');
    expect((await oauth2TokenRequests()) - before).toBe(1);
  } finally {
    await context.close();
    for (const server of servers.splice(0)) server.close();
  }
}

const runners: Record<string, (block: CodeBlock) => Promise<void>> = { sh: runShell, ts: runNode, html: runPage };

describe('every code block in README.md runs against npm start', () => {
  it('finds the blocks, and says how PORT and SANDBOX_PORT change the URLs it fills in', () => {
    expect(blocks.filter((block) => block.skip === undefined).length).toBeGreaterThan(0);
    expect(readme).toContain('http://127.0.0.1:8787 (PORT=…)');
    expect(readme).toContain('`SANDBOX_PORT=…` changes the port');
  });

  for (const block of blocks) {
    const title = `line ${block.line} (${block.heading}): \`\`\`${block.lang || '(no language)'}`;
    const runner = block.browser && block.lang === 'ts' ? runBrowser : runners[block.lang];
    if (block.skip !== undefined) {
      it.skip(`${title}: ${block.skip}`, () => undefined);
    } else if (runner === undefined) {
      it(title, () => {
        throw new Error(`README line ${block.line}: a \`\`\`${block.lang} block cannot be run here; run it (sh, ts, html) or mark it <!-- readme-test: skip (why) -->`);
      });
    } else {
      it(title, () => runner(block));
    }
  }
});

describe('the ts blocks, skipped ones too, type-check against the package', () => {
  it('tsc with the strict test configuration, tokengate/* resolved to src/', async () => {
    const ts = blocks.filter((block) => block.lang === 'ts');
    expect(ts.length).toBeGreaterThan(0);
    // Inside the repo (test-results/ is ignored), so the examples' own imports (idb-keyval) resolve.
    mkdirSync(join(root, 'test-results'), { recursive: true });
    const dir = mkdtempSync(join(root, 'test-results', 'readme-typecheck-'));
    try {
      for (const block of ts) writeFileSync(join(dir, `readme-line-${block.line}.ts`), block.code);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.test.json'), include: ['*.ts'] }));
      const result = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], {});
      expect(result.stdout.replace(/[^\s(]*readme-line-(\d+)\.ts/g, 'README.md block at line $1'), result.stderr).toBe('');
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reading the blocks', () => {
  it('takes a skip marker only right before a fence, and refuses what it could misread', () => {
    const fence = '```';
    expect(codeBlocks(`# A\n\n<!-- readme-test: skip (why) -->\n\n${fence}sh\nnpm ci\n${fence}\n${fence}ts\nx\n${fence}\n`)).toEqual([
      { line: 5, heading: 'A', lang: 'sh', code: 'npm ci', skip: 'why' },
      { line: 8, heading: 'A', lang: 'ts', code: 'x', skip: undefined },
    ]);
    expect(() => codeBlocks('<!-- readme-test: skip -->\n```sh\nx\n```\n')).toThrow(/marker/);
    expect(() => codeBlocks('<!-- readme-test: skip (why) -->\ntext\n```sh\nx\n```\n')).toThrow(/marker/);
    expect(() => codeBlocks('```sh\nx\n')).toThrow(/never closed/);
  });
});

describe('the places the README names', () => {
  it('every Worker page it gives answers 200', async () => {
    const pages = [...new Set([...readme.matchAll(/http:\/\/127\.0\.0\.1:8787(?:\/[^\s`'")]*)?/g)].map(([url]) => url.replace(/[.,;:]+$/, '')))];
    expect(pages).toContain(`${README_WORKER}/embed/example.html`);
    for (const page of pages) expect((await fetch(withStackPorts(page))).status, page).toBe(200);
  });

  it('the vendor sandbox table holds every demo credential, and each token URL is a token endpoint', async () => {
    const section = readme.slice(readme.indexOf('## The vendor sandbox'), readme.indexOf('## The three ways'));
    const credentials = JSON.parse(readFileSync(join(root, 'sandbox/credentials.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    for (const [vendor, fields] of Object.entries(credentials)) {
      for (const [name, value] of Object.entries(fields)) {
        if (typeof value === 'string') expect(section, `${vendor}.${name}`).toContain(`\`${value}\``);
      }
    }
    const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| vendor') && !line.startsWith('| ---'));
    expect(rows).toHaveLength(Object.keys(credentials).length);
    for (const row of rows) {
      const tokenPath = /^`(\/[^`]+)`/.exec(row.split(' | ')[2] ?? '')?.[1];
      expect(tokenPath, row).toBeDefined();
      // No credentials: a token endpoint refuses (400 or 401); an unknown path would answer 404.
      const answer = await fetch(`${stack.sandboxOrigin}${tokenPath}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      expect([400, 401], `${tokenPath} answered ${answer.status}`).toContain(answer.status);
    }
  });
});
