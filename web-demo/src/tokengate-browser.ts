/**
 * The demo's browser bundle (`web-demo/dist/tokengate.js`, built by scripts/build-web.mjs): the parts of
 * the core the pages use, plus the token-mediating linking flow built on them. The core is imported from
 * its sources, so the bundle is exactly what the package ships, tree-shaken.
 */
export { createPkce } from '../../src/pkce.ts';
export { startAuthorization, completeAuthorization } from '../../src/authorization.ts';
export { createTokenSource } from '../../src/token-source.ts';
export { ErrorCode, TokenGateError, isOAuthError, isTokenGateError } from '../../src/errors.ts';
export { oauth2 } from '../../src/profiles/oauth2.ts';
export { idbStore, webLock } from '../../src/browser/index.ts';
export { call, linkStatus, unlinkSession } from './worker-client.ts';
export {
  completeMediatedLink,
  linkConfig,
  mediatedSource,
  mediatedStatus,
  profileOf,
  renewMediated,
  startMediatedLink,
  tokenKey,
  unlink,
  vendorOfCallback,
  NO_TRANSACTION,
  type LinkConfig,
  type MediatedStatus,
  type PendingTransaction,
  type StartResult,
} from './mediated.ts';
