import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMessage } from 'publint/utils';
import { publint } from 'publint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The published package as a user gets it: the sources are copied into a temporary directory as a
// fresh clone has them (no dist/), `npm pack` builds them there through `prepack`, and the tarball is
// installed into a temporary consumer project, which imports and type-checks it. Offline throughout.
const root = fileURLToPath(new URL('../../', import.meta.url));
const repoModules = join(root, 'node_modules');
// The registry is a closed loopback port: anything that tried to reach it would fail at once.
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, npm_config_update_notifier: 'false', npm_config_registry: 'http://127.0.0.1:9/' };
const run = (command: string, args: string[], cwd: string): string => execFileSync(command, args, { cwd, env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });

/** What a build needs from a fresh clone; everything else in the repo must not matter to the package. */
const BUILD_INPUTS = ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'src', 'dev'];
/** The packed package's own dependencies (and @types/node's), linked from the repo: the registry is never asked. */
const CONSUMER_DEPS = ['ky', 'valibot', 'idb-keyval', '@types/node', 'undici-types'];

interface PackResult { filename: string; size: number; unpackedSize: number; files: { path: string }[] }
type Exports = Record<string, string | Record<string, string>>;

let temp: string;
let tarball: string;
let packed: PackResult;
let consumer: string;
let installedPkg: { exports: Exports } & Record<string, unknown>;

beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), 'tokengate-package-'));
  const clone = join(temp, 'clone');
  for (const name of BUILD_INPUTS) cpSync(join(root, name), join(clone, name), { recursive: true });
  symlinkSync(repoModules, join(clone, 'node_modules'));
  packed = (JSON.parse(run('npm', ['pack', '--json', '--pack-destination', temp], clone)) as PackResult[])[0]!;
  tarball = join(temp, packed.filename);

  consumer = join(temp, 'consumer');
  mkdirSync(consumer);
  const dependencies: Record<string, string> = { tokengate: `file:${tarball}` };
  for (const name of CONSUMER_DEPS) dependencies[name] = `file:${join(repoModules, name)}`;
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }));
  // --ignore-scripts: the linked dependencies' own `prepare` scripts need their dev tools; tokengate has no install script.
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--install-links=false', '--ignore-scripts'], consumer);
  installedPkg = JSON.parse(readFileSync(join(consumer, 'node_modules', 'tokengate', 'package.json'), 'utf8')) as typeof installedPkg;
}, 120_000);

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
});

/** Every file path the exports map names, without the leading `./`. */
const exportTargets = (exports: Exports): string[] => Object.values(exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target))).map((path) => path.replace(/^\.\//, ''));

describe('the packed package', () => {
  it('holds every file its exports map names, a declaration beside every module, the LICENSE, and nothing but dist/', () => {
    const files = packed.files.map((file) => file.path);
    for (const target of exportTargets(installedPkg.exports)) expect(files, target).toContain(target);
    for (const js of files.filter((path) => path.endsWith('.js'))) expect(files, js).toContain(js.replace(/\.js$/, '.d.ts'));
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    // dev/: the `#dev` flag modules (package.json "imports"), one per condition.
    expect(files.filter((path) => !['LICENSE', 'README.md', 'package.json'].includes(path) && !path.startsWith('dist/') && !path.startsWith('dev/'))).toEqual([]);
    for (const target of Object.values((installedPkg['imports'] as Record<string, Record<string, string>>)['#dev']!)) expect(files, target).toContain(target.slice(2));
    // The d.ts cite what a reader of the package can open, not files of the repo's authors.
    const unshipped = files.filter((path) => path.endsWith('.d.ts')).flatMap((path) => readFileSync(join(consumer, 'node_modules', 'tokengate', path), 'utf8').split('\n').filter((line) => /seeds\/|SECURITY\.md/.test(line)).map((line) => `${path}: ${line.trim()}`));
    expect(unshipped).toEqual([]);
  });

  it('is ESM only, side-effect free, and says so in its package.json', () => {
    expect(installedPkg['type']).toBe('module');
    expect(installedPkg['sideEffects']).toBe(false);
    expect(installedPkg['main']).toBeUndefined();
    expect(JSON.stringify(installedPkg.exports)).not.toMatch(/"require"/);
  });

  it('imports every entry of its exports map in Node from a consumer project, with the public names', () => {
    const specifiers = Object.keys(installedPkg.exports).map((key) => `tokengate${key.slice(1)}`);
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      const names = {};
      for (const specifier of ${JSON.stringify(specifiers)}) {
        const module = specifier.endsWith('.json') ? await import(specifier, { with: { type: 'json' } }) : await import(specifier);
        names[specifier] = Object.keys(module);
      }
      const { createPkce } = await import('tokengate');
      console.log(JSON.stringify({ names, pkce: await createPkce() }));
    `], { cwd: consumer, encoding: 'utf8', timeout: 20_000 });
    const { names, pkce } = JSON.parse(out) as { names: Record<string, string[]>; pkce: Record<string, string> };
    expect(Object.keys(names)).toEqual(['tokengate', 'tokengate/profiles', 'tokengate/http', 'tokengate/browser', 'tokengate/package.json']);
    expect(names['tokengate']).toEqual(expect.arrayContaining(['createPkce', 'startAuthorization', 'completeAuthorization', 'createTokenSource', 'memoryStore', 'TokenGateError', 'OAuthError', 'ErrorCode']));
    expect(names['tokengate/profiles']).toEqual(expect.arrayContaining(['instabox', 'eshopbox', 'instellix', 'shopware', 'instacart', 'oauth2', 'discover']));
    expect(names['tokengate/http']).toEqual(['createApiClient']);
    expect(names['tokengate/browser']).toEqual(expect.arrayContaining(['idbStore', 'webLock']));
    expect(pkce['method']).toBe('S256');
    expect(pkce['verifier']).toMatch(/^[A-Za-z0-9\-._~]{43}$/);
  });

  it('picks its messages by condition in Node: sentences in development, under workerd and by default; codes and facts in production', () => {
    const message = (args: string[], nodeEnv?: string): string =>
      execFileSync(process.execPath, [...args, '--input-type=module', '-e', `
        import { checkEndpoint } from 'tokengate';
        try { checkEndpoint('tokenUrl', 'http://as.example/token'); } catch (error) { console.log(error.message); }
      `], { cwd: consumer, encoding: 'utf8', timeout: 20_000, env: { ...env, NODE_ENV: nodeEnv ?? '' } }).trim();
    const sentence = 'tokenUrl must use https: (http: only on loopback)';
    const production = 'ERR_INVALID_CONFIG tokenUrl https:';
    expect(message([])).toBe(sentence);
    expect(message([], 'production')).toBe(production);
    expect(message(['--conditions=production'])).toBe(production);
    expect(message(['--conditions=development'], 'production')).toBe(sentence);
    // The Worker's runtime: its logs keep the sentences whatever NODE_ENV says.
    expect(message(['--conditions=workerd'], 'production')).toBe(sentence);
  });

  it('is clean under publint (strict, suggestions included)', async () => {
    const bytes = readFileSync(tarball);
    const { messages, pkg } = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }, level: 'suggestion', strict: true });
    expect(messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`)).toEqual([]);
  });

  it('is clean under attw --profile esm-only: the types resolve like the code for ESM in Node and bundlers', () => {
    const attw = join(repoModules, '@arethetypeswrong', 'cli', 'dist', 'index.js');
    const result = spawnSync(process.execPath, [attw, tarball, '--profile', 'esm-only', '--format', 'json'], { encoding: 'utf8', timeout: 60_000, env });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    // The only problems it may list are those of the CommonJS resolutions that esm-only ignores.
    const problems = Object.values((JSON.parse(result.stdout) as { problems: Record<string, { resolutionKind?: string }[]> }).problems).flat();
    expect(problems.filter((problem) => problem.resolutionKind !== 'node10' && problem.resolutionKind !== 'node16-cjs')).toEqual([]);
  }, 60_000);
});

/**
 * A strict consumer program using every entry point. The `@ts-expect-error` lines make it fail if the
 * package's types ever degrade to `any`: an unused expectation is an error too.
 */
const PROGRAM = `
import { createPkce, startAuthorization, completeAuthorization, createTokenSource, memoryStore, TokenGateError, OAuthError, ErrorCode, isTokenGateError, type TokenSet } from 'tokengate';
import { instabox, eshopbox, instellix, shopware, instacart, oauth2, discover } from 'tokengate/profiles';
import { createApiClient } from 'tokengate/http';
import { idbStore, webLock } from 'tokengate/browser';

const { verifier, challenge, method } = await createPkce();
const s256: 'S256' = method;
// @ts-expect-error PKCE is S256 only
const plain: 'plain' = method;
const profile = instellix({ realm: 'acme', environment: 'sandbox', clientId: 'id', clientSecret: 'secret' });
const source = createTokenSource(profile, { store: memoryStore() });
const token: TokenSet = await source.getToken();
const expiresAt: number | undefined = token.expiresAt;
// @ts-expect-error an access token is a string
const wrong: number = token.accessToken;
const api = createApiClient({ tokenSource: source, prefixUrl: 'https://api.sandbox.instellix.io' });
const shipments: unknown = await api.get('api/v1/shipments').json();
const spa = oauth2({ tokenUrl: 'https://auth.example/token', authorizeUrl: 'https://auth.example/authorize', clientId: 'spa' });
const tx = await startAuthorization(spa, { redirectUri: 'https://shop.example/callback', scope: ['read'] });
const tokens = await completeAuthorization(spa, tx, 'https://shop.example/callback?code=c&state=' + tx.state);
const linked = createTokenSource(spa, { tokens, store: idbStore(), lock: webLock });
const others = [
  instabox({ clientId: 'a', clientSecret: 'b' }),
  eshopbox({ clientId: 'a', clientSecret: 'b', refreshToken: 'r' }),
  shopware({ shopUrl: 'https://shop.example', clientId: 'a', clientSecret: 'b' }),
  shopware({ shopUrl: 'https://shop.example', username: 'admin', password: 'p' }),
  instacart({ environment: 'development', clientId: 'a', clientSecret: 'b', scope: 'connect:fulfillment' }),
  await discover('https://auth.example', { clientId: 'spa' }),
];
try {
  await linked.getToken();
} catch (error) {
  if (isTokenGateError(error) && error.code === ErrorCode.LINK_REQUIRED) console.log('link again');
  if (error instanceof OAuthError) console.log(error.code, error.status);
  if (error instanceof TokenGateError) console.log(error.message);
}
console.log(verifier, challenge, s256, plain, expiresAt, wrong, shipments, others.length);
`;

const VARIANTS = [
  { resolution: 'bundler', module: 'esnext', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] },
  { resolution: 'bundler', module: 'esnext', lib: ['ES2022'], types: ['node'] },
  { resolution: 'nodenext', module: 'nodenext', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] },
  { resolution: 'nodenext', module: 'nodenext', lib: ['ES2022'], types: ['node'] },
];

describe('a strict consumer program type-checks against the installed package', () => {
  it.each(VARIANTS)('moduleResolution $resolution, lib $lib, types $types', ({ resolution, module, lib, types }) => {
    const name = `${resolution}-${types.length > 0 ? 'node' : 'dom'}`;
    writeFileSync(join(consumer, `${name}.ts`), PROGRAM);
    const compilerOptions = { target: 'ES2022', module, moduleResolution: resolution, lib, types, strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, verbatimModuleSyntax: true, skipLibCheck: false, noEmit: true };
    writeFileSync(join(consumer, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: [`${name}.ts`] }));
    const tsc = spawnSync(process.execPath, [join(repoModules, 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${name}.json`], { cwd: consumer, encoding: 'utf8', timeout: 60_000 });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 60_000);
});

describe('the sources', () => {
  it('keep the dependency direction: ky only in http, idb-keyval only in browser, no node: or cloudflare: in src', () => {
    const files = execFileSync('find', ['src', '-name', '*.ts'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const name of imports) {
        expect(name, file).not.toMatch(/^(node:|cloudflare:)/);
        expect(name, file).not.toMatch(/^\.\.\/(\.\.\/)*(worker|web-demo|test)\//);
        if (name === 'ky') expect(file).toMatch(/^src\/http\//);
        if (name === 'idb-keyval') expect(file).toMatch(/^src\/browser\//);
        if (name === 'valibot') expect(file).not.toMatch(/^src\/(http|browser)\//);
      }
    }
  });
});
