import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// These run against the built output in dist/ (npm test builds first), as a user of the package sees it.
const root = new URL('../../', import.meta.url);
const nodeEval = (code: string): string => execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });

describe('the published package', () => {
  it("import('tokengate') works from the project root and makes a PKCE pair", () => {
    const out = JSON.parse(nodeEval("import('tokengate').then(m => m.createPkce()).then(p => console.log(JSON.stringify(p)))")) as Record<string, string>;
    expect(out['method']).toBe('S256');
    expect(out['verifier']).toMatch(/^[A-Za-z0-9\-._~]{43}$/);
    expect(out['challenge']).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('exposes every entry point with the public names', () => {
    const out = nodeEval(`
      const core = await import('tokengate');
      const profiles = await import('tokengate/profiles');
      const http = await import('tokengate/http');
      const browser = await import('tokengate/browser');
      console.log(JSON.stringify({ core: Object.keys(core), profiles: Object.keys(profiles), http: Object.keys(http), browser: Object.keys(browser) }));
    `);
    const names = JSON.parse(out) as Record<string, string[]>;
    expect(names['core']).toEqual(expect.arrayContaining(['createPkce', 'startAuthorization', 'completeAuthorization', 'createTokenSource', 'memoryStore', 'TokenGateError', 'OAuthError']));
    expect(names['profiles']).toEqual(expect.arrayContaining(['oauth2', 'discover']));
    expect(names['http']).toEqual(['createApiClient']);
    expect(names['browser']).toEqual(expect.arrayContaining(['idbStore', 'webLock']));
  });

  it('ships declarations, is ESM only and side-effect free', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Record<string, unknown>;
    expect(pkg['type']).toBe('module');
    expect(pkg['sideEffects']).toBe(false);
    for (const entry of ['index', 'profiles/index', 'http/index', 'browser/index']) {
      expect(readFileSync(new URL(`dist/${entry}.d.ts`, root), 'utf8')).toContain('export');
    }
  });

  it('keeps the dependency direction: ky only in http, idb-keyval only in browser, no node: or cloudflare: in src', () => {
    const files = execFileSync('find', ['src', '-name', '*.ts'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
    for (const file of files) {
      const text = readFileSync(new URL(file, root), 'utf8');
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
