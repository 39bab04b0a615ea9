import { formEncode } from './encoding.js';

const REDACTED = '[redacted]';
const MAX_TEXT = 300;
/** Below this length a credential is matched only as a whole token (see {@link redact}). */
const SHORT = 6;
const ALNUM = /[A-Za-z0-9]/;

/**
 * Makes server-supplied text safe to put in an error message: removes control characters, cuts it
 * short, and replaces every credential the request carried. Vendors' `error_description` is not
 * trusted: some echo the submitted secret or code back.
 *
 * The rule, for credentials of every length: one of 6 characters or more is replaced wherever it
 * occurs, also inside a word. A shorter one (a 5-character password `pw+12`) is replaced where it
 * stands as a whole token: where its first and last characters, if they are letters or digits, are
 * not joined to further letters or digits. So `pw+12` goes from "bad secret 'pw+12'" while a 3-letter
 * secret `ant` leaves "invalid_grant" alone; a short secret glued inside a longer word is not a
 * credential a reader could take from the text. Each is also matched percent- and form-encoded.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of variants(secret)) {
      // A long form as it is, anywhere; a short one escaped, as a whole token.
      out = out.replaceAll(
        form.length >= SHORT
          ? form
          : new RegExp(
              `${ALNUM.test(form[0]!) ? '(?<![A-Za-z0-9])' : ''}${form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}${ALNUM.test(form.at(-1)!) ? '(?![A-Za-z0-9])' : ''}`,
              'g',
            ),
        REDACTED,
      );
    }
  }
  // eslint-disable-next-line no-control-regex
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT)}…` : out;
}

/** {@link redact} applied to every string in a small JSON value (vendor error details). */
export function redactValue(value: unknown, secrets: readonly (string | undefined)[], depth = 0): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (depth > 4 || value === null || typeof value !== 'object') return typeof value === 'object' ? undefined : value;
  if (Array.isArray(value)) return value.slice(0, 20).map((item) => redactValue(item, secrets, depth + 1));
  return Object.fromEntries(Object.entries(value).slice(0, 20).map(([k, v]) => [k, redactValue(v, secrets, depth + 1)]));
}

function variants(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), formEncode(secret)])];
}
