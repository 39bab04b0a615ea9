import { readJsonObject } from './body.js';
import { parseFaultRequest } from './faults.js';
import { empty, json } from './http.js';
import type { SandboxState } from './state.js';
import { OAUTH2_SERVER, VENDORS, type SandboxStats, type ServerCounts } from './types.js';

/** A copy of one counter table; the generic OAuth 2.0 server's entry only once it counted something. */
function copyCounts(counts: ServerCounts): ServerCounts {
  const { oauth2, echo, ...vendors } = counts;
  return { ...vendors, ...(oauth2 ? { oauth2 } : {}), ...(echo ? { echo } : {}) };
}

/** A copy of the counters, so callers cannot change the sandbox's own. */
export function statsSnapshot(state: SandboxState): SandboxStats {
  const { tokenRequests, refusedPolls, apiCalls } = state.stats;
  return { tokenRequests: copyCounts(tokenRequests), refusedPolls, apiCalls: copyCounts(apiCalls) };
}

/**
 * `POST /_faults {vendor, fault, count?, retryAfter?, delayMs?}` → 204. `vendor` is one of the five or
 * `oauth2`, the generic OAuth 2.0 server. `none` disarms the vendor's fault;
 * `revoke` at once kills every access token, refresh token (the Eshopbox app token included) and pending
 * authorization code of the vendor; the others arm the vendor's next `count` token-endpoint answers,
 * replacing whatever was armed.
 */
export async function setFault(state: SandboxState, request: Request): Promise<Response> {
  const body = await readJsonObject(request);
  if (body === undefined) return json({ error: 'invalid_fault', message: 'The body must be a JSON object' }, 400);
  const input = Object.fromEntries(body);
  // The generic OAuth 2.0 server takes the same faults; parseFaultRequest knows the five vendor names.
  const generic = input['vendor'] === OAUTH2_SERVER;
  const checked = parseFaultRequest(generic ? { ...input, vendor: VENDORS[0] } : input);
  if ('error' in checked) return json({ error: 'invalid_fault', message: checked.error }, 400);
  const parsed = generic ? { ...checked, vendor: OAUTH2_SERVER } : checked;
  switch (parsed.fault) {
    case 'none':
      state.faults.clear(parsed.vendor);
      break;
    case 'revoke':
      state.tokens.revokeVendor(parsed.vendor);
      if (parsed.vendor === 'instacart') state.instacartCodes.clear();
      if (generic) state.oauth2Codes.clear();
      break;
    default:
      state.faults.arm({ ...parsed, fault: parsed.fault });
  }
  return empty(204);
}
