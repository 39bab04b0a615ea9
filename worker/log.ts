/**
 * One structured JSON line per event. Callers pass only fields that are safe to keep: names, route
 * patterns, statuses, durations, error codes. Never a token, secret, code, cookie or query string.
 */
export function log(fields: Record<string, string | number | boolean | undefined>): void {
  console.log(JSON.stringify({ t: new Date().toISOString(), ...fields }));
}
