export { oauth2, type OAuth2Options, type CommonProfileOptions } from './oauth2.js';
export { discover, fetchMetadata, type DiscoverOptions, type AuthorizationServerMetadata } from './discovery.js';
