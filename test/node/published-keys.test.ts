import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { operatorKeyProblems } from '../../worker/operator-keys.js';
import { PUBLISHED_KEY_DIGESTS } from '../../worker/published-keys.js';
import { sha256Hex } from '../../worker/sha256.js';
import { loadScript } from '../helpers/stack.js';

// Every key and key ring published in this repository is refused by a Worker outside loopback
// (docs/security.md rows 27 and 30; issue 21 finding 4). worker/published-keys.ts holds their digests,
// never the values; this checks that list against a scan of the repository.

const { publishedSecrets, publishedDigests } = await loadScript<{ publishedSecrets(): string[]; publishedDigests(): string[] }>('published-keys.mjs');
const strongKey = (): string => createHash('sha256').update(crypto.getRandomValues(new Uint8Array(32))).digest('base64url');

describe('published keys (finding 4)', () => {
  it('the Worker’s list holds the digest of every key and key ring entry the repository publishes', () => {
    const listed = [...PUBLISHED_KEY_DIGESTS];
    expect(publishedSecrets().length).toBeGreaterThanOrEqual(10);
    for (const digest of publishedDigests()) expect(listed, 'run node scripts/published-keys.mjs and update worker/published-keys.ts').toContain(digest);
  });

  it('the synchronous SHA-256 agrees with node:crypto', () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      expect(sha256Hex(bytes), String(length)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('outside loopback each published value is refused as the operator key and as a key ring entry, naming the binding', () => {
    for (const value of publishedSecrets()) {
      expect(operatorKeyProblems(value, undefined).join('\n'), 'as TOKENGATE_API_KEY').toMatch(/^TOKENGATE_API_KEY: /);
      if (/^[A-Za-z0-9_-]{43}$/.test(value)) {
        expect(operatorKeyProblems(strongKey(), `k1:${strongKey()},k0:${value}`)).toEqual([expect.stringMatching(/^TOKENGATE_KEYS: key 2 \(kid k0\) is published in the tokengate repository/)]);
      }
    }
    // Strong keys of this run pass (worker/config.ts runs this check outside loopback only).
    expect(operatorKeyProblems(strongKey(), `k1:${strongKey()}`)).toEqual([]);
  });
});
