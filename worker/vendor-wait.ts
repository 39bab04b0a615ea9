/**
 * The vendor's own rate limit, honoured (SECURITY rows 14, 19): when a vendor answers a proxied call
 * 429 with `Retry-After` (RFC 9110 §10.2.3), no call made with that credential goes to the vendor until
 * then; each is answered 429 with the time left. For the app credential that is every caller of its
 * routes: this isolate keeps the time in memory, read synchronously on the proxy's hot path (no await),
 * and the credential's Durable Object keeps it too and hands it to every isolate that asks it for a
 * token. A linked session's 429 (a vendor's per-user limit, say) holds for that session only, kept by
 * its Durable Object, which every call of the session asks anyway: one shopper's 429 never shuts out
 * the others.
 */

/** Longest wait honoured (an hour): a vendor's typo must not take it away for a day. */
export const MAX_VENDOR_WAIT_MS = 60 * 60_000;

/** Epoch ms until which each vendor asked its app credential's calls to wait, in this isolate. */
const waits = new Map<string, number>();

/** Milliseconds left before `vendor`'s app credential may call it again, or undefined when it may now. */
export function vendorWait(vendor: string, now: number = Date.now()): number | undefined {
  const until = waits.get(vendor);
  if (until === undefined) return undefined;
  if (until > now) return until - now;
  waits.delete(vendor);
  return undefined;
}

/** Remembers in this isolate that `vendor` asked its app credential to wait until `until` (epoch ms); a later time wins. */
export function noteVendorWait(vendor: string, until: number): void {
  if (until > (waits.get(vendor) ?? 0)) waits.set(vendor, until);
}

/**
 * The epoch ms a 429's `Retry-After` names (delay-seconds or an HTTP-date), capped at
 * {@link MAX_VENDOR_WAIT_MS}; undefined when the header is missing or unreadable.
 */
export function retryAfterUntil(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return now + Math.min(ms, MAX_VENDOR_WAIT_MS);
}
