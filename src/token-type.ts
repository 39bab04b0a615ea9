import type { Profile } from './profile.js';

/**
 * The profile taking a token answer without `token_type` as a Bearer token, for a server that omits
 * the field (OpenAuth). Opt-in: RFC 6749 §5.1 requires `token_type`, and without this a missing one is
 * `ERR_INVALID_RESPONSE`. Only a missing field is filled in; a present one is checked as always, and
 * the profile's own `mapTokenBody` runs first. Wraps any profile: `assumeBearer(oauth2({ ... }))`,
 * `assumeBearer(await discover(issuer, { ... }))`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
export function assumeBearer<P extends Profile>(profile: P): P {
  const map = profile.mapTokenBody;
  return {
    ...profile,
    mapTokenBody: (body: unknown) => {
      const mapped = map ? map(body) : body;
      return typeof mapped === 'object' && mapped !== null && (mapped as { token_type?: unknown }).token_type === undefined ? { ...mapped, token_type: 'Bearer' } : mapped;
    },
  };
}
