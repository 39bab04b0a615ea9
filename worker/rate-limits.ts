import { createRateLimiter } from './rate-limit.js';

export interface RateLimits {
  /** Takes one request for `caller` and one for `vendor`; refused when either bucket is empty. */
  take(caller: string, vendor: string): { ok: true } | { ok: false; retryAfter: number };
}

/**
 * Two token buckets per isolate: one per caller (`perMinute`, bursts of a quarter of it) and one per
 * vendor (ten times that), so one caller cannot exhaust a vendor's quota for everybody.
 */
export function createRateLimits(perMinute: number, now?: () => number): RateLimits {
  const options = now === undefined ? {} : { now };
  const callers = createRateLimiter({ capacity: Math.max(1, Math.ceil(perMinute / 4)), refillPerSecond: perMinute / 60, ...options });
  const vendors = createRateLimiter({ capacity: Math.max(1, Math.ceil((perMinute * 10) / 4)), refillPerSecond: (perMinute * 10) / 60, ...options });
  return {
    take(caller, vendor) {
      const byCaller = callers.take(`${vendor}:${caller}`);
      if (!byCaller.ok) return byCaller;
      const byVendor = vendors.take(vendor);
      return byVendor.ok ? { ok: true } : byVendor;
    },
  };
}
