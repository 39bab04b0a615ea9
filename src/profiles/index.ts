export { oauth2, type OAuth2Options, type OAuth2Auth, type PasswordGrant, type CommonProfileOptions } from './oauth2.js';
export { discover, fetchMetadata, type DiscoverOptions, type AuthorizationServerMetadata } from './discovery.js';
export { instabox, type InstaboxOptions } from './instabox.js';
export { eshopbox, type EshopboxOptions } from './eshopbox.js';
export { instellix, type InstellixOptions, type InstellixEnvironment } from './instellix.js';
export { shopware, type ShopwareOptions, type ShopwareIntegrationOptions, type ShopwareUserOptions } from './shopware.js';
export {
  instacart,
  authorizeSandboxUser,
  type InstacartOptions,
  type InstacartEnvironment,
  type InstacartErrorDetail,
  type AuthorizeSandboxUserOptions,
} from './instacart.js';
