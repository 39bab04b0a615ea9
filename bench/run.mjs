// `npm run bench`: every benchmark in one run, one Markdown table, printed and written to
// bench/results.md with the machine and the date. Figures are ratios measured side by side.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { hotPath } from './hot-path.mjs';
import { tokenRequests } from './token-requests.mjs';

const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
const date = new Date().toISOString().slice(0, 10);
const mark = (pass) => (pass === undefined ? '' : pass ? ' ✅' : ' ❌');

const lines = [`# tokengate benchmarks`, '', `${date} · ${machine}`, ''];

lines.push('## Token source hot path', '', '| measurement | result | time per call, ours ÷ this baseline | goal |', '| --- | --- | --- | --- |');
for (const row of await hotPath()) lines.push(`| ${row.what} | ${row.value} | ${row.ratio} | ${row.goal}${mark(row.pass)} |`);

lines.push('', '## Token requests vs the minimum', '', '| pattern | token requests | minimum |', '| --- | --- | --- |');
for (const row of await tokenRequests()) lines.push(`| ${row.what} | ${row.value} | ${row.minimum}${mark(row.value === row.minimum)} |`);

const text = `${lines.join('\n')}\n`;
process.stdout.write(text);
writeFileSync(new URL('./results.md', import.meta.url), text);
