import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { timingSafeEqual } from '../../src/index.js';

// docs/security.md row 15: secrets, keys, state and CSRF values are compared through one helper.
const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

describe('constant-time comparison', () => {
  it('the helper is correct', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true);
    for (const other of ['abd', 'ab', 'abcd', '', 'ABC', 'abc\u0000']) expect(timingSafeEqual('abc', other)).toBe(false);
    expect(timingSafeEqual('é', 'é')).toBe(true);
    // Different lone surrogates are different values (a UTF-8 encoding would make both U+FFFD).
    expect(timingSafeEqual('a\uD800', 'a\uDFFF')).toBe(false);
    expect(timingSafeEqual('\u00e9', 'e\u0301')).toBe(false);
  });

  it('state, the API key and the CSRF header go through it', () => {
    expect(read('src/authorization.ts')).toMatch(/timingSafeEqual\(state, transaction\.state\)/);
    expect(read('worker/routes/api.ts')).toMatch(/timingSafeEqual\(presented, config\.apiKey\)/);
    expect(read('worker/proxy/cors.ts')).toMatch(/timingSafeEqual\(value, '1'\)/);
  });

  it('there is one implementation outside the vendor sandbox, and no plain comparison of those values', () => {
    const files = execFileSync('grep', ['-rl', 'function timingSafeEqual', 'src', 'worker'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
    // The sandbox (sandbox/, not searched) plays the vendors and imports nothing of tokengate's, on purpose.
    expect(files).toEqual(['src/encoding.ts']);
    const plain = /(state|apiKey|presented|csrf)\s*[!=]==\s*(transaction\.state|config\.apiKey|presented)/;
    for (const file of ['src/authorization.ts', 'worker/routes/api.ts', 'worker/proxy/cors.ts', 'worker/routes/link.ts', 'worker/routes/token.ts']) {
      expect(read(file), file).not.toMatch(plain);
    }
  });
});
