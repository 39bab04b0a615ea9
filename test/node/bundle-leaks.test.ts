import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

// docs/security.md row 7: no client secret, refresh token or server key reaches a browser. The core's browser
// entry points are bundled in memory as an app would bundle them; the web demo's bundles are built with
// scripts/build-web.mjs; then those bundles, the built package in dist/ and every file under web-demo/
// are searched for each sandbox secret (and its URL-, form- and HTTP-Basic-encoded forms), the Worker's
// dev fallbacks for TOKENGATE_KEYS and TOKENGATE_API_KEY, and `client_secret` / `clientSecret` literals
// that carry a value.

const root = new URL('../../', import.meta.url).pathname;

interface Needle {
  label: string;
  value: string;
}
const load = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(path, import.meta.url).href) as Promise<T>;

/** A `client_secret` or `clientSecret` with a literal value: `client_secret: "x"`, `clientSecret = 'x'`, `client_secret=x` in a URL or form. */
const SECRET_LITERALS: { label: string; pattern: RegExp }[] = [
  { label: 'client_secret with a quoted value', pattern: /["']?client_secret["']?\s*[:=]\s*(["'`])(?!\1)[^"'`\n]+\1/ },
  { label: 'clientSecret with a quoted value', pattern: /["']?clientSecret["']?\s*[:=]\s*(["'`])(?!\1)[^"'`\n]+\1/ },
  { label: 'client_secret= with a value in a URL or form body', pattern: /[?&"'`]client_secret=(?![$&"'`\s{+)])[^&"'`\s<)]+/ },
];

/** Every file under `dir`, skipping node_modules. */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules') return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function findings(name: string, text: string, needles: Needle[]): string[] {
  const found: string[] = [];
  for (const { label, value } of needles) if (text.includes(value)) found.push(`${name}: ${label}`);
  for (const { label, pattern } of SECRET_LITERALS) {
    const match = pattern.exec(text);
    if (match) found.push(`${name}: ${label}: …${text.slice(Math.max(0, match.index - 30), match.index + match[0].length + 10)}…`);
  }
  return found;
}

describe('no secret in anything a browser loads (docs/security.md row 7)', () => {
  let needles: Needle[];
  const outputs = new Map<string, string>();
  let webDemo: { built: boolean; note: string };

  beforeAll(async () => {
    const engine = await load<{ secretNeedles(root: string): Needle[] }>('../../scripts/soak-engine.mjs');
    // `refresh_token` is a grant type name the core must be able to send; here only values count.
    needles = engine.secretNeedles(root).filter((needle) => needle.value !== 'refresh_token');

    const core = await build({
      absWorkingDir: root,
      entryPoints: { index: 'src/index.ts', browser: 'src/browser/index.ts', http: 'src/http/index.ts' },
      outdir: 'bundle-leaks',
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      logLevel: 'silent',
    });
    const sources: Record<string, string> = { 'index.js': 'src/index.ts', 'browser.js': 'src/browser/index.ts', 'http.js': 'src/http/index.ts' };
    for (const file of core.outputFiles) outputs.set(`bundle of ${sources[relative(join(root, 'bundle-leaks'), file.path)] ?? file.path}`, file.text);

    const builder = join(root, 'scripts/build-web.mjs');
    if (!existsSync(builder)) {
      webDemo = { built: false, note: 'scripts/build-web.mjs does not exist: only the files already under web-demo/ are scanned' };
    } else {
      const module = await load<{ buildWeb?: () => Promise<{ file: string }[]> }>('../../scripts/build-web.mjs');
      if (typeof module.buildWeb !== 'function') {
        webDemo = { built: false, note: 'scripts/build-web.mjs exports no buildWeb(): only the files already under web-demo/ are scanned' };
      } else {
        // Writes web-demo/dist (ignored by git); its own canary check throws if a bundle holds one.
        const sizes = await module.buildWeb();
        webDemo = { built: true, note: `built ${sizes.map((s) => s.file).join(', ')}` };
      }
    }
  }, 60_000);

  it('knows what to look for: every sandbox secret, the dev key ring and API key, their encodings', () => {
    const labels = needles.map((needle) => needle.label).join('\n');
    expect(needles.length).toBeGreaterThan(15);
    for (const expected of ['dev TOKENGATE_KEYS', 'dev TOKENGATE_API_KEY', 'HTTP Basic credentials of sandbox-instellix-client', 'the canary "sandbox-secret"']) {
      expect(labels).toContain(expected);
    }
    // The detectors themselves find what they are for.
    expect(findings('x', 'const a={client_secret:"abc123"}', [])).toHaveLength(1);
    expect(findings('x', "o.clientSecret = 'abc123'", [])).toHaveLength(1);
    expect(findings('x', 'fetch(u,{body:"grant_type=client_credentials&client_secret=abc123"})', [])).toHaveLength(1);
    expect(findings('x', 'p.set("client_secret",e);const s=`client_secret=${e}`;r.client_secret=n;q="&client_secret="+e', [])).toEqual([]);
  });

  it('the core’s browser entry points, bundled as an app would, hold none', () => {
    expect([...outputs.keys()].sort()).toEqual(['bundle of src/browser/index.ts', 'bundle of src/http/index.ts', 'bundle of src/index.ts']);
    for (const [name, text] of outputs) {
      expect(text.length, name).toBeGreaterThan(200);
      expect(findings(name, text, needles)).toEqual([]);
    }
  });

  it('the built package in dist/ holds none', () => {
    const files = walk(join(root, 'dist')).filter((file) => file.endsWith('.js'));
    for (const file of files) expect(findings(relative(root, file), readFileSync(file, 'utf8'), needles)).toEqual([]);
  });

  it('the web demo’s bundles and every file under web-demo/ hold none', () => {
    console.log(`web demo: ${webDemo.note}`);
    const files = walk(join(root, 'web-demo'));
    expect(files.length).toBeGreaterThan(0);
    if (webDemo.built) expect(files.some((file) => file.includes(`${join('web-demo', 'dist')}/`) && file.endsWith('.js'))).toBe(true);
    const found = files.flatMap((file) => findings(relative(root, file), readFileSync(file, 'utf8'), needles));
    expect(found).toEqual([]);
  });
});
