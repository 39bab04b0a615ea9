import { StoredMap, type SandboxStorage } from './storage.js';
import { VENDORS, type VendorName } from './types.js';

/** The fault switches `POST /_faults` takes. */
export type FaultName = '5xx' | '429' | 'slow' | 'truncated' | 'html' | 'revoke' | 'none';

/** The faults that change token-endpoint answers; `revoke` and `none` act at once instead. */
export type AnswerFault = Exclude<FaultName, 'revoke' | 'none'>;

const FAULTS: readonly FaultName[] = ['5xx', '429', 'slow', 'truncated', 'html', 'revoke', 'none'];

/** A checked `POST /_faults` body with its defaults filled in. */
export interface FaultRequest {
  readonly vendor: VendorName;
  readonly fault: FaultName;
  /** How many next token-endpoint answers of that vendor it affects (default 1). */
  readonly count: number;
  /** Seconds for the 429 `Retry-After` header (default 1). */
  readonly retryAfter: number;
  /** How long `slow` waits before answering normally (default 2000 ms). */
  readonly delayMs: number;
}

/** A fault waiting for the vendor's next token request. */
export interface ArmedFault {
  readonly fault: AnswerFault;
  readonly retryAfter: number;
  readonly delayMs: number;
}

/** One armed fault per vendor at most; arming again replaces it. */
export interface FaultBoard {
  arm(request: FaultRequest & { fault: AnswerFault }): void;
  clear(vendor: VendorName): void;
  /** The fault for this token request, counting it down; undefined when none is armed. */
  take(vendor: VendorName): ArmedFault | undefined;
}

/** The fault board, kept in `storage` under `fault:`. */
export function createFaultBoard(storage: SandboxStorage): FaultBoard {
  const armed = new StoredMap<VendorName, ArmedFault & { remaining: number }>(storage, 'fault:');
  return {
    arm({ vendor, fault, count, retryAfter, delayMs }) {
      armed.set(vendor, { fault, retryAfter, delayMs, remaining: count });
    },
    clear(vendor) {
      armed.delete(vendor);
    },
    take(vendor) {
      const entry = armed.get(vendor);
      if (entry === undefined) return undefined;
      if (entry.remaining <= 1) armed.delete(vendor);
      else armed.set(vendor, { ...entry, remaining: entry.remaining - 1 });
      return { fault: entry.fault, retryAfter: entry.retryAfter, delayMs: entry.delayMs };
    },
  };
}

function integerIn(value: unknown, fallback: number, min: number, max: number): number | undefined {
  if (value === undefined) return fallback;
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

/**
 * Checks a `POST /_faults` body. Returns the request, or a message naming the bad field (never its value).
 */
export function parseFaultRequest(body: unknown): FaultRequest | { error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'The body must be a JSON object' };
  const input = body as Record<string, unknown>;
  const vendor = VENDORS.find((name) => name === input['vendor']);
  if (vendor === undefined) return { error: `vendor must be one of ${VENDORS.join(', ')}` };
  const fault = FAULTS.find((name) => name === input['fault']);
  if (fault === undefined) return { error: `fault must be one of ${FAULTS.join(', ')}` };
  const count = integerIn(input['count'], 1, 1, 10_000);
  if (count === undefined) return { error: 'count must be an integer from 1 to 10000' };
  const retryAfter = integerIn(input['retryAfter'], 1, 0, 86_400);
  if (retryAfter === undefined) return { error: 'retryAfter must be an integer number of seconds from 0 to 86400' };
  const delayMs = integerIn(input['delayMs'], 2000, 0, 120_000);
  if (delayMs === undefined) return { error: 'delayMs must be an integer from 0 to 120000' };
  return { vendor, fault, count, retryAfter, delayMs };
}
