import { DEV } from '#dev';
import ky, { type KyInstance, type Options } from 'ky';
import { ERR_INVALID_CONFIG, ERR_UNSUPPORTED_TOKEN_TYPE, TokenGateError } from '../errors.js';
import type { DPoP } from '../dpop.js';
import type { TokenSource } from '../token-source.js';

export interface ApiClientOptions extends Omit<Options, 'prefix' | 'baseUrl'> {
  tokenSource: TokenSource;
  /** The API's base URL, ky 2's `prefix`. The bearer token is only ever sent to this origin. */
  prefix?: string;
  /** @deprecated ky 1's name; use `prefix`. */
  prefixUrl?: string;
  /**
   * The DPoP key the tokens are bound to (the one the token source's profile got them with, see
   * `withDpop`): DPoP tokens then go as `Authorization: DPoP` with a proof per attempt.
   */
  dpop?: DPoP;
}

const SENT_TOKEN = /^(?:Bearer|DPoP) (.+)$/;
const isDpop = (headers: Headers): boolean => /^DPoP /.test(headers.get('authorization') ?? '');

/**
 * A ky instance that sends `Authorization: Bearer` from the token source to `prefix`'s origin only,
 * and on a 401 invalidates exactly the token that request carried and retries once with a new one.
 * Requests to any other origin go out without the token. A DPoP token goes as `Authorization: DPoP`
 * with a proof when the `dpop` option holds its key (RFC 9449 §7); any other token whose
 * `token_type` is not Bearer is never sent: the request fails with `ERR_UNSUPPORTED_TOKEN_TYPE`
 * before it leaves.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function createApiClient(options: ApiClientOptions): KyInstance {
  const { tokenSource, prefix: given, prefixUrl, hooks, dpop, ...kyOptions } = options;
  const prefix = given ?? prefixUrl;
  if (typeof prefix !== 'string') throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'createApiClient needs prefix, the API base URL' : 'prefix');
  const origin = new URL(prefix).origin;
  const withToken = async (request: Request): Promise<Request> => {
    const { accessToken, tokenType } = await tokenSource.getToken();
    // RFC 6750 §2.1 / RFC 7235 §2.1: the scheme name is case-insensitive.
    const scheme = tokenType.toLowerCase() === 'bearer' ? 'Bearer' : dpop && tokenType.toLowerCase() === 'dpop' ? 'DPoP' : undefined;
    if (scheme === undefined) {
      throw new TokenGateError(ERR_UNSUPPORTED_TOKEN_TYPE, DEV ? `The token is of type ${tokenType.slice(0, 40)}, which createApiClient cannot send; only Bearer tokens, and DPoP tokens with the dpop option, are supported` : tokenType.slice(0, 40));
    }
    const headers = new Headers(request.headers);
    headers.set('authorization', `${scheme} ${accessToken}`);
    return new Request(request, { headers });
  };
  const base = kyOptions.fetch;
  // RFC 9449 §7: a proof (with ath) goes with a DPoP token, which withToken sends to the API's origin only.
  const dpopFetch = dpop?.fetch(base);
  return ky.create({
    ...kyOptions,
    ...(dpopFetch ? { fetch: (input: string | URL | Request, init?: RequestInit) => (isDpop(input instanceof Request ? input.headers : new Headers(init?.headers)) ? dpopFetch : base ?? fetch)(input, init) } : {}),
    prefix,
    hooks: {
      ...hooks,
      beforeRequest: [
        ...(hooks?.beforeRequest ?? []),
        async ({ request }) => (new URL(request.url).origin === origin ? withToken(request) : undefined),
      ],
      afterResponse: [
        ...(hooks?.afterResponse ?? []),
        async ({ request, response, retryCount }) => {
          if (response.status !== 401 || retryCount > 0 || new URL(request.url).origin !== origin) return;
          const sent = SENT_TOKEN.exec(request.headers.get('authorization') ?? '')?.[1];
          if (sent === undefined) return;
          tokenSource.invalidate(sent);
          // The new token is good now: no backoff delay.
          return ky.retry({ request: await withToken(request), code: 'TOKEN_REFRESHED', delay: 0 });
        },
      ],
    },
  });
}
