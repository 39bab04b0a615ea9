/**
 * The vendor's own rate limit, honoured for every caller (SECURITY rows 14, 32): when a vendor answers
 * 429 with `Retry-After` (RFC 9110 §10.2.3), no call of any caller goes to that vendor until then;
 * each is answered 429 with the time left. This isolate keeps the time in memory, read synchronously
 * on the proxy's hot path (no await); the vendor's app-credential Durable Object keeps it too and
 * hands it to every isolate that asks it for a token, so an isolate that starts later waits as well.
 */

/** Longest wait honoured (an hour): a vendor's typo must not take it away for a day. */
export const MAX_VENDOR_WAIT_MS = 60 * 60_000;

/** Epoch ms until which each vendor asked to be left alone, in this isolate. */
const waits = new Map<string, number>();

/** Milliseconds left before `vendor` may be called again, or undefined when it may be called now. */
export function vendorWait(vendor: string, now: number = Date.now()): number | undefined {
  const until = waits.get(vendor);
  if (until === undefined) return undefined;
  if (until > now) return until - now;
  waits.delete(vendor);
  return undefined;
}

/** Remembers in this isolate that `vendor` asked to wait until `until` (epoch ms); a later time wins. */
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
