/**
 * The fenced code blocks of a Markdown document, for the test that runs every README example.
 *
 * A block that cannot run here (set-up, test and deploy commands) is marked by the HTML comment
 * `<!-- readme-test: skip (why) -->` on the last non-blank line before its opening fence; a ts block
 * that runs in a browser page is marked `<!-- readme-test: browser (what happens) -->`.
 */

/** One fenced block: where it starts, its language, its text and, when marked, why it is skipped. */
export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** The nearest heading above it. */
  heading: string;
  /** The info string's first word (`sh`, `ts`, `html`, …); empty when the fence names none. */
  lang: string;
  code: string;
  skip: string | undefined;
  /** Marked to run as a module of a page in Chromium, not in Node. */
  browser?: true;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const SKIP = /^<!-- readme-test: skip \((.+)\) -->$/;
const BROWSER = /^<!-- readme-test: browser \((.+)\) -->$/;
const MARKER = /readme-test/;

/**
 * Every fenced block of `markdown`. Throws on what the test could misread: an unclosed fence, or a
 * `readme-test` comment that is not a well-formed skip marker right before a fence.
 */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let heading = '';
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    if (/^#{1,6} /.test(text)) heading = text.replace(/^#+ /, '');
    if (MARKER.test(text)) {
      const next = lines.slice(index + 1).find((line) => line.trim() !== '');
      if (!(SKIP.test(text.trim()) || BROWSER.test(text.trim())) || next === undefined || !FENCE.test(next)) {
        throw new Error(`README line ${index + 1}: a readme-test marker must read <!-- readme-test: skip (why) --> or <!-- readme-test: browser (what) --> and stand right before a fence`);
      }
    }
    const open = FENCE.exec(text);
    if (open === null) continue;
    const fence = open[1]!;
    const close = lines.findIndex((line, at) => at > index && line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '');
    if (close === -1) throw new Error(`README line ${index + 1}: the fence is never closed`);
    const before = lines.slice(0, index).reverse().find((line) => line.trim() !== '');
    blocks.push({
      line: index + 1,
      heading,
      lang: open[2]!.toLowerCase(),
      code: lines.slice(index + 1, close).join('\n'),
      skip: before === undefined ? undefined : SKIP.exec(before.trim())?.[1],
      ...(before !== undefined && BROWSER.test(before.trim()) ? { browser: true as const } : {}),
    });
    index = close;
  }
  return blocks;
}
