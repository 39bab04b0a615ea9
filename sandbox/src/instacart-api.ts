import { json } from './http.js';
import { requireInstacartToken } from './instacart-errors.js';
import type { RouteContext } from './route.js';

/** `GET /instacart/v2/fulfillment/users/self`: the linked user, so it needs a user token (403 for an app token). */
export async function instacartSelf(context: RouteContext): Promise<Response> {
  const auth = requireInstacartToken(context, 'user');
  if (!auth.ok) return auth.response;
  const id = auth.record.userId ?? 0;
  const user = context.state.instacartUsers.get(id);
  return json({ id, first_name: user?.firstName ?? 'Sandbox', last_name: user?.lastName ?? 'Shopper' });
}

const STORES = [
  { id: 'store-1001', name: 'Sandbox Fresh Market', location_code: 'SF-001', postal_code: '94105' },
  { id: 'store-1002', name: 'Sandbox Corner Grocer', location_code: 'SF-002', postal_code: '94107' },
];

/** `GET /instacart/v2/fulfillment/stores`: any Instacart token, app or user. */
export async function instacartStores(context: RouteContext): Promise<Response> {
  const auth = requireInstacartToken(context);
  if (!auth.ok) return auth.response;
  return json({ stores: STORES });
}
