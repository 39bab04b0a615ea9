const REDACTED = '[redacted]';
const MAX_TEXT = 300;

/**
 * Makes server-supplied text safe to put in an error message: removes control characters, cuts it
 * short, and replaces every credential the request carried. Vendors' `error_description` is not
 * trusted: some echo the submitted secret or code back.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    // Short values (a 3-character client id) would mangle ordinary words and are not secrets anyway.
    if (secret === undefined || secret.length < 6) continue;
    for (const form of variants(secret)) out = out.split(form).join(REDACTED);
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
  const encoded = encodeURIComponent(secret);
  const form = new URLSearchParams([['', secret]]).toString().slice(1);
  return [...new Set([secret, encoded, form])];
}
