import { readJsonObject } from './body.js';
import { parseFaultRequest } from './faults.js';
import { empty, json } from './http.js';
import type { SandboxState } from './state.js';
import type { SandboxStats } from './types.js';

/** A copy of the counters, so callers cannot change the sandbox's own. */
export function statsSnapshot(state: SandboxState): SandboxStats {
  const { tokenRequests, refusedPolls, apiCalls } = state.stats;
  return { tokenRequests: { ...tokenRequests }, refusedPolls, apiCalls: { ...apiCalls } };
}

/**
 * `POST /_faults {vendor, fault, count?, retryAfter?, delayMs?}` → 204. `none` disarms the vendor's fault;
 * `revoke` at once kills every access token, refresh token (the Eshopbox app token included) and pending
 * authorization code of the vendor; the others arm the vendor's next `count` token-endpoint answers,
 * replacing whatever was armed.
 */
export async function setFault(state: SandboxState, request: Request): Promise<Response> {
  const body = await readJsonObject(request);
  if (body === undefined) return json({ error: 'invalid_fault', message: 'The body must be a JSON object' }, 400);
  const parsed = parseFaultRequest(Object.fromEntries(body));
  if ('error' in parsed) return json({ error: 'invalid_fault', message: parsed.error }, 400);
  switch (parsed.fault) {
    case 'none':
      state.faults.clear(parsed.vendor);
      break;
    case 'revoke':
      state.tokens.revokeVendor(parsed.vendor);
      if (parsed.vendor === 'instacart') state.instacartCodes.clear();
      break;
    default:
      state.faults.arm({ ...parsed, fault: parsed.fault });
  }
  return empty(204);
}
