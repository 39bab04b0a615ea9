import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// docs/security.md names, per row of the security bar, the tests that prove it, as `file` “title”. This
// keeps it from drifting: every file it names exists and has a test or describe block of each title.
const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/security.md', root), 'utf8');

interface Row { number: number; line: string; refs: { file: string; title: string }[] }

function parseRows(text: string): Row[] {
  return text.split('\n').flatMap((line) => {
    const number = /^\| (\d+) \|/.exec(line)?.[1];
    if (number === undefined) return [];
    const refs: Row['refs'] = [];
    let file: string | undefined;
    for (const match of line.matchAll(/`(test\/[^`]+?\.test\.ts)`|“([^”]+)”/g)) {
      if (match[1] !== undefined) file = match[1];
      else if (file === undefined) throw new Error(`row ${number}: the title “${match[2]}” comes before any test file`);
      else refs.push({ file, title: match[2]! });
    }
    return [{ number: Number(number), line, refs }];
  });
}

/** The literal titles of a file's `it`/`test`/`describe` calls, including `.each([...])('title')` forms. */
function titles(file: string): Set<string> {
  const source = readFileSync(new URL(file, root), 'utf8');
  const call = /(?:\b(?:it|test|describe)(?:\.\w+)*\(|\]\)\()\s*(['"`])((?:\\.|(?!\1)[^\\])*?)\1/g;
  return new Set([...source.matchAll(call)].map((match) => match[2]!.replace(/\\(.)/g, '$1')));
}

const rows = parseRows(doc);

describe('docs/security.md, the security bar and its proofs', () => {
  it('has the 27 rows of the bar, in order, each naming at least one test', () => {
    expect(rows.map((row) => row.number)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    for (const row of rows) expect(row.refs.length, `row ${row.number}`).toBeGreaterThan(0);
  });

  it('names only test files that exist and test titles that exist in them', () => {
    const missing: string[] = [];
    for (const row of rows) {
      for (const { file, title } of row.refs) {
        if (!existsSync(new URL(file, root))) missing.push(`row ${row.number}: no file ${file}`);
        else if (!titles(file).has(title)) missing.push(`row ${row.number}: no test “${title}” in ${file}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the lookup can fail: it finds real titles, not any text', () => {
    const pkce = titles('test/unit/pkce.test.ts');
    expect(pkce.has('matches the RFC 7636 Appendix B vector')).toBe(true);
    expect(pkce.has('matches the RFC 7636 Appendix B')).toBe(false);
    expect(parseRows('| 1 | p | q | `test/unit/pkce.test.ts` “a”, “b”; `test/unit/http.test.ts` “c” |')[0]!.refs).toEqual([
      { file: 'test/unit/pkce.test.ts', title: 'a' },
      { file: 'test/unit/pkce.test.ts', title: 'b' },
      { file: 'test/unit/http.test.ts', title: 'c' },
    ]);
  });

  it('marks a row open, naming its issue, wherever the bar is not yet proven as a whole', () => {
    const open = rows.filter((row) => row.line.includes('**open (issue ')).map((row) => row.number);
    expect(open).toEqual([]);
  });
});
