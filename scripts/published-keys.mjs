// The keys and key rings published in this repository (demo and development values, test literals),
// which a Worker outside loopback must refuse (docs/security.md rows 27, 30). worker/published-keys.ts
// holds their SHA-256 digests, never the values, so the production bundle carries none of them;
// test/node/published-keys.test.ts checks that list against this scan. `node scripts/published-keys.mjs`
// prints the list to paste there after adding a key to the repository.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devSecrets } from '../sandbox/dev-secrets.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A key ring entry, `kid:base64url(32 bytes)`, anywhere in a text file. */
const KEY_RING_ENTRY = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{1,16}:([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g;

/** The secret values published in the repository: each whole secret, and each key ring entry's key. */
export function publishedSecrets(root = ROOT) {
  const values = new Set();
  const addRing = (ring) => {
    for (const entry of ring.split(',')) values.add(entry.trim().slice(entry.trim().indexOf(':') + 1));
  };
  for (const [name, value] of Object.entries(devSecrets())) {
    if (name === 'TOKENGATE_KEYS') addRing(value);
    else values.add(value);
  }
  const walk = (value) => {
    if (typeof value === 'string') values.add(value);
    else if (value !== null && typeof value === 'object') for (const inner of Object.values(value)) walk(inner);
  };
  const credentials = JSON.parse(readFileSync(join(root, 'sandbox/credentials.json'), 'utf8'));
  for (const vendor of Object.values(credentials)) {
    for (const [field, value] of Object.entries(vendor)) if (/secret|password|token/i.test(field)) walk(value);
  }
  for (const line of readFileSync(join(root, '.dev.vars.example'), 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.+)$/.exec(line.trim());
    if (match === null) continue;
    if (match[1] === 'TOKENGATE_KEYS') addRing(match[2]);
    else values.add(match[2]);
  }
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter((file) => /\.(?:[cm]?[jt]s|json|md|toml|example|html)$/.test(file) && file !== 'package-lock.json');
  for (const file of files) {
    let text;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      continue;
    }
    for (const match of text.matchAll(KEY_RING_ENTRY)) {
      const bytes = Buffer.from(match[1], 'base64url');
      if (bytes.length === 32 && bytes.toString('base64url') === match[1]) values.add(match[1]);
    }
  }
  return [...values].filter((value) => value !== '');
}

/** The SHA-256 digests of {@link publishedSecrets}, their first 16 bytes as hex (128 bits), sorted. */
export function publishedDigests(root = ROOT) {
  return [...new Set(publishedSecrets(root).map((value) => createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 32)))].sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const digest of publishedDigests()) console.log(`  '${digest}',`);
}
