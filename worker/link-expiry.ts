/**
 * Pending BFF links expire, and their storage goes with them. A start without a session makes a
 * session's Durable Object that holds nothing but the sealed transaction (`link:<vendor>`); a shopper
 * who never comes back, or a script that starts and leaves, would otherwise leave it forever. The
 * object's alarm fires at the earliest expiry, deletes what has expired, and when nothing else is left
 * (no linked tokens, no other pending link) deletes the object's whole storage, so after the expiry the
 * namespace holds what it held before the starts.
 *
 * @see https://developers.cloudflare.com/durable-objects/api/alarms/
 */

/** The storage calls this needs (a Durable Object's `ctx.storage`). */
export interface ExpiryStorage {
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
  deleteAlarm(): Promise<void>;
  list<T = unknown>(options?: { prefix?: string; limit?: number }): Promise<Map<string, T>>;
  delete(keys: string[]): Promise<number>;
  deleteAll(): Promise<void>;
}

/** The storage prefix of pending links (`link:<vendor>`, worker/coordinator.ts). */
const PREFIX = 'link:';

/** Makes the alarm fire no later than `at` (an earlier one already set stays). */
export async function scheduleExpiry(storage: ExpiryStorage, at: number): Promise<void> {
  const current = await storage.getAlarm();
  if (current === null || current > at) await storage.setAlarm(at);
}

/**
 * Deletes the pending links that have expired (or no longer open: a rotated-out key), re-arms the
 * alarm for the earliest one left, and deletes everything when the storage holds nothing else.
 * `expiryOf` opens a sealed link and answers its expiry, undefined when it cannot be read.
 */
export async function expirePendingLinks(storage: ExpiryStorage, expiryOf: (key: string, sealed: string) => Promise<number | undefined>, now: number = Date.now()): Promise<void> {
  const links = await storage.list<string>({ prefix: PREFIX });
  const expired: string[] = [];
  let next: number | undefined;
  for (const [key, sealed] of links) {
    const at = typeof sealed === 'string' ? await expiryOf(key, sealed) : undefined;
    if (at === undefined || at <= now) expired.push(key);
    else next = next === undefined ? at : Math.min(next, at);
  }
  if (expired.length > 0) await storage.delete(expired);
  if (next !== undefined) {
    await storage.setAlarm(next);
    return;
  }
  // Only expired links were here, and nothing else: the object goes back to holding nothing.
  if ((await storage.list({ limit: 1 })).size === 0) await storage.deleteAll();
}
