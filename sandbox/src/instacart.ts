import { instacartSelf, instacartStores } from './instacart-api.js';
import { authorizeInstacartUser, createInstacartUser } from './instacart-sandbox.js';
import { instacartToken } from './instacart-token.js';
import type { Route } from './route.js';

/** Instacart Connect: the token endpoint, the fulfillment sandbox (doc 004) and two protected calls. */
export const instacartRoutes: readonly Route[] = [
  { vendor: 'instacart', kind: 'token', pattern: /^\/instacart\/v2\/oauth\/token$/, methods: ['POST'], handle: instacartToken },
  {
    vendor: 'instacart',
    kind: 'api',
    pattern: /^\/instacart\/v2\/fulfillment_sandbox\/instacart_users$/,
    methods: ['POST'],
    handle: createInstacartUser,
  },
  {
    vendor: 'instacart',
    kind: 'api',
    pattern: /^\/instacart\/v2\/fulfillment_sandbox\/instacart_users\/(?<user_id>[^/]+)\/authorize$/,
    methods: ['POST'],
    handle: authorizeInstacartUser,
  },
  { vendor: 'instacart', kind: 'api', pattern: /^\/instacart\/v2\/fulfillment\/users\/self$/, methods: ['GET'], handle: instacartSelf },
  { vendor: 'instacart', kind: 'api', pattern: /^\/instacart\/v2\/fulfillment\/stores$/, methods: ['GET'], handle: instacartStores },
];
