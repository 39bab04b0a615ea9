import { PUBLISHED_KEY_DIGESTS } from './published-keys.js';
import { sha256Hex } from './sha256.js';

/**
 * Outside loopback the Worker's own keys must be strong and unpublished (docs/security.md rows 27, 30):
 * the operator key `TOKENGATE_API_KEY` with at least 32 random bytes' worth of characters and no
 * visible pattern, and no key of either it or the `TOKENGATE_KEYS` ring that is published in this
 * repository (a demo or development value). Each problem names its binding; none repeats a key.
 */

/** Bits an operator key must carry at least: 32 random bytes. */
export const OPERATOR_KEY_BITS = 256;
/** How to make a good key, for the messages. */
const MAKE_ONE = `node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;

const published = (value: string): boolean => PUBLISHED_KEY_DIGESTS.has(sha256Hex(new TextEncoder().encode(value)).slice(0, 32));

/**
 * The most bits `key` can carry: its length times log2 of the alphabet its character classes span
 * (lowercase, uppercase, digits, anything else). 43 base64url or 64 hex characters reach 256.
 */
export function keyBits(key: string): number {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/];
  const sizes = [26, 26, 10, 32];
  const alphabet = classes.reduce((sum, pattern, i) => sum + (pattern.test(key) ? sizes[i]! : 0), 0);
  return alphabet === 0 ? 0 : [...key].length * Math.log2(alphabet);
}

/**
 * A key a person typed rather than a generator made: few distinct symbols per character (Shannon
 * entropy under 3 bits), a six-character stretch that comes back, or runs (`aaaa`, `abcd`) in half of it.
 */
export function looksMadeByHand(key: string): boolean {
  const chars = [...key];
  const counts = new Map<string, number>();
  for (const char of chars) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) entropy -= (count / chars.length) * Math.log2(count / chars.length);
  if (entropy < 3) return true;
  const seen = new Set<string>();
  for (let i = 0; i + 6 <= chars.length; i++) {
    const part = chars.slice(i, i + 6).join('');
    if (seen.has(part)) return true;
    seen.add(part);
  }
  let runs = 0;
  for (let i = 1; i < chars.length; i++) if (Math.abs(chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!) <= 1) runs++;
  return runs * 2 >= chars.length - 1;
}

/** The problems of the operator key and the key ring for a Worker outside loopback; empty when none. */
export function operatorKeyProblems(apiKey: string | undefined, keyRing: string | undefined): string[] {
  const problems: string[] = [];
  if (apiKey !== undefined) {
    if (published(apiKey)) problems.push('TOKENGATE_API_KEY: the operator key is published in the tokengate repository (a demo or development value); set a key of your own');
    else if (keyBits(apiKey) < OPERATOR_KEY_BITS) problems.push(`TOKENGATE_API_KEY: the operator key is shorter than 32 random bytes' worth (about ${Math.floor(keyBits(apiKey))} bits); make one with ${MAKE_ONE}`);
    else if (looksMadeByHand(apiKey)) problems.push(`TOKENGATE_API_KEY: the operator key has visibly low entropy (repeats or runs of characters); make a random one with ${MAKE_ONE}`);
  }
  if (keyRing !== undefined) {
    keyRing.split(',').forEach((entry, i) => {
      const text = entry.trim();
      const colon = text.indexOf(':');
      if (colon === -1) return; // the key ring's own parse reports it
      const kid = text.slice(0, colon);
      const material = text.slice(colon + 1);
      if (published(material)) problems.push(`TOKENGATE_KEYS: key ${i + 1} (kid ${kid}) is published in the tokengate repository (a demo or development value); make your own with node -e "console.log('k1:' + require('crypto').randomBytes(32).toString('base64url'))"`);
      else if (distinctBytes(material) < 16) problems.push(`TOKENGATE_KEYS: key ${i + 1} (kid ${kid}) has visibly low entropy (fewer than 16 distinct bytes of 32); make a random one`);
    });
  }
  return problems;
}

/** How many different byte values a base64url key decodes to (a random 32-byte key has about 30). */
function distinctBytes(material: string): number {
  try {
    return new Set(atob(material.replace(/-/g, '+').replace(/_/g, '/'))).size;
  } catch {
    return 32; // not base64url: the key ring's own parse reports it
  }
}
