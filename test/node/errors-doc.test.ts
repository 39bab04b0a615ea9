import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/errors.md is the error reference: every `error` value the Worker answers, every OAuth error its
// token endpoint answers, every ERR_* code of the core, the Worker and the embed, and the embed's own
// codes. The sources are scanned for codes; one without a row fails here, naming it.

const root = new URL('../../', import.meta.url).pathname;

/** Every .ts file under `dir`, as [path, text]. */
function sources(dir: string): [string, string][] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return [path.slice(root.length), readFileSync(path, 'utf8')];
    });
}

/** code → the first file that has it, for each match of `pattern` (its first group) in `files`. */
function scan(files: [string, string][], pattern: RegExp): Map<string, string> {
  const found = new Map<string, string>();
  for (const [path, text] of files) for (const match of text.matchAll(pattern)) if (!found.has(match[1]!)) found.set(match[1]!, path);
  return found;
}

/** The codes of docs/errors.md: the first cell of each table row, in backticks. */
function documented(): Set<string> {
  const text = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  return new Set([...text.matchAll(/^\| `([A-Za-z_]+)` \|/gm)].map((match) => match[1]!));
}

const missing = (codes: Map<string, string>): string[] =>
  [...codes].filter(([code]) => !documented().has(code)).map(([code, path]) => `${code} (in ${path})`);

const worker = sources('worker');
const browser = [...sources('web-demo/src'), ...sources('web-demo/embed/src')];

describe('docs/errors.md lists every error code', () => {
  it('every `error` value the Worker answers', () => {
    const codes = scan(worker, /errorResponse\(\s*[^,]+,\s*'([a-z_]+)'/g);
    expect(codes.size).toBeGreaterThan(15);
    expect(missing(codes), 'docs/errors.md has no row for these Worker error values; add one to "The Worker\'s `error` values"').toEqual([]);
  });

  it('every OAuth error of the token endpoint', () => {
    const codes = scan(worker, /oauthError\(\s*[^,]+,\s*'([a-z_]+)'/g);
    codes.set('server_error', 'worker/routes/token.ts');
    expect(codes.size).toBeGreaterThanOrEqual(4);
    expect(missing(codes), 'docs/errors.md has no row for these token-endpoint errors').toEqual([]);
  });

  it('every ERR_* code of the core, the Worker and the embed', () => {
    // A literal used as a prefix (`code.startsWith('ERR_STATE')`) is a family, not a code.
    const pattern = /(?<!startsWith\()'(ERR_[A-Z_]+)'/g;
    const codes = scan([...sources('src'), ...worker, ...browser], pattern);
    expect(codes.get('ERR_NETWORK')).toBe('src/errors.ts');
    expect(codes.size).toBeGreaterThan(23);
    expect(missing(codes), 'docs/errors.md has no row for these ERR_* codes; add one to "The core\'s codes"').toEqual([]);
  });

  it('every code the embed reports in tokengate-error', () => {
    const codes = scan(browser, /code: '([a-z_]+)'/g);
    expect([...codes.keys()]).toContain('cross_site_worker');
    expect(missing(codes), 'docs/errors.md has no row for these embed codes').toEqual([]);
  });

  it('says which code is missing when one is', () => {
    const codes = new Map([['ERR_SOMETHING_NEW', 'worker/example.ts']]);
    expect(missing(codes)).toEqual(['ERR_SOMETHING_NEW (in worker/example.ts)']);
  });
});
