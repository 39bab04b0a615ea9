import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// docs/security.md row 22: demo code is not product code. The production Worker is bundled as
// `wrangler deploy --env production` would upload it (offline, --dry-run), and so is a plain
// `wrangler deploy` of the top level; neither may hold a sandbox module, a demo credential or the
// development key ring or API key.

const root = new URL('../../', import.meta.url).pathname;
interface Needle {
  label: string;
  value: string;
}
interface Bundle {
  code: string;
  bytes: number;
  gzipBytes: number;
  /** What wrangler printed: the bindings and vars the deploy would carry. */
  output: string;
}
const load = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(path, import.meta.url).href) as Promise<T>;

/** Every source file under `dir`, read. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'));
}

/**
 * Text only the sandbox has: each single-quoted string of 16+ characters in sandbox/src that appears
 * nowhere in the product's sources (src/, worker/), plus its class and Worker names.
 */
function sandboxMarkers(): string[] {
  const product = [...sources('src'), ...sources('worker')].join('\n');
  const markers = new Set<string>(['VendorSandbox', 'tokengate-sandbox']);
  for (const text of sources('sandbox/src')) {
    for (const line of text.split('\n')) {
      if (/^\s*(?:\*|\/\/)/.test(line)) continue;
      for (const match of line.matchAll(/'([^'\\]{16,})'/g)) if (!product.includes(match[1]!)) markers.add(match[1]!);
    }
  }
  return [...markers];
}

describe('the production Worker ships product code only (row 22)', () => {
  let needles: Needle[];
  const bundles = new Map<string, Bundle>();
  const markers = sandboxMarkers();

  beforeAll(async () => {
    const engine = await load<{ secretNeedles(root: string): Needle[] }>('../../scripts/soak-engine.mjs');
    // `refresh_token` is a grant type name the Worker must be able to send; here only values count.
    needles = engine.secretNeedles(root).filter((needle) => needle.value !== 'refresh_token');
    const { buildWorkerBundle } = await load<{ buildWorkerBundle(options?: { env?: string }): Bundle }>('../../scripts/worker-bundle.mjs');
    bundles.set('--env production', buildWorkerBundle({ env: 'production' }));
    bundles.set('the top level (no --env)', buildWorkerBundle());
  }, 60_000);

  it('knows what to look for: the demo secrets, the dev key ring and API key, the sandbox’s own text', () => {
    for (const expected of ['dev TOKENGATE_KEYS', 'dev TOKENGATE_API_KEY', 'HTTP Basic credentials of sandbox-instellix-client', 'the canary "sandbox-secret"']) {
      expect(needles.map((needle) => needle.label)).toContain(expected);
    }
    expect(markers).toContain('No sandbox route for this path');
    expect(markers.length).toBeGreaterThan(40);
  });

  const scan = (name: string): void => {
    const bundle = bundles.get(name)!;
    expect(bundle.code).toContain('TokenCoordinator');
    expect(needles.filter((needle) => bundle.code.includes(needle.value)).map((needle) => needle.label)).toEqual([]);
    expect(markers.filter((marker) => bundle.code.includes(marker))).toEqual([]);
  };
  it('--env production: no demo credential, no dev key, no sandbox module', () => scan('--env production'));
  it('the top level (no --env): no demo credential, no dev key, no sandbox module', () => scan('the top level (no --env)'));

  it('a deploy without --env ships no origins, so it fails closed instead of running the sandbox exception (row 27)', () => {
    const top = bundles.get('the top level (no --env)')!.output;
    // The deploy's bindings are listed; none is an origin, loopback or not: the Worker's configuration
    // check then refuses every request (PUBLIC_ORIGIN is required), and the sandbox exception never runs.
    expect(top).toContain('env.VENDORS');
    expect(top).not.toMatch(/env\.(?:PUBLIC_ORIGIN|ALLOWED_ORIGINS|SANDBOX_ORIGIN)\b/);
    expect(top).not.toMatch(/127\.0\.0\.1|localhost/);
    expect(bundles.get('--env production')!.output).toMatch(/env\.PUBLIC_ORIGIN \("https:\/\/edge\.example"\)/);
  });

  it('stays within its size budget (240 kB, 58 kB gzip): the sandbox or a heavy dependency pulled in would break it', () => {
    const production = bundles.get('--env production')!;
    // A budget, not a record: the product grows with its features (about 206 kB, 50 kB gzip after the
    // second red team's fixes), and bench/results.md has each run's size. The sandbox's code alone was
    // about 59 kB, so pulling it back in, or a dependency of that weight, goes over. The scans above are
    // what prove the sandbox is out.
    expect(production.bytes).toBeLessThan(240_000);
    expect(production.gzipBytes).toBeLessThan(58_000);
  });

  it('keeps the core\'s English sentences for its logs: wrangler resolves #dev by its workerd condition', () => {
    for (const [name, bundle] of bundles) {
      expect(bundle.code, name).toMatch(/^\/\/ dev\/on\.js\nvar DEV = true;$/m);
      expect(bundle.code, name).not.toMatch(/^\/\/ dev\/(?:off|env)\.js$/m);
      expect(bundle.code, name).toContain('answer has a missing or invalid');
    }
  });
});
