import ky, { type KyInstance, type Options } from 'ky';
import type { TokenSource } from '../token-source.js';

export interface ApiClientOptions extends Omit<Options, 'prefix' | 'baseUrl'> {
  tokenSource: TokenSource;
  /** The API's base URL. The bearer token is only ever sent to this origin. */
  prefixUrl: string;
}

const BEARER = /^Bearer (.+)$/;

/**
 * A ky instance that sends `Authorization: Bearer` from the token source to `prefixUrl`'s origin only,
 * and on a 401 invalidates exactly the token that request carried and retries once with a new one.
 * Requests to any other origin go out without the token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function createApiClient(options: ApiClientOptions): KyInstance {
  const { tokenSource, prefixUrl, hooks, ...kyOptions } = options;
  const origin = new URL(prefixUrl).origin;
  const withToken = async (request: Request): Promise<Request> => {
    const { accessToken } = await tokenSource.getToken();
    const headers = new Headers(request.headers);
    headers.set('authorization', `Bearer ${accessToken}`);
    return new Request(request, { headers });
  };
  return ky.create({
    ...kyOptions,
    prefix: prefixUrl,
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
          const sent = BEARER.exec(request.headers.get('authorization') ?? '')?.[1];
          if (sent === undefined) return;
          tokenSource.invalidate(sent);
          // The new token is good now: no backoff delay.
          return ky.retry({ request: await withToken(request), code: 'TOKEN_REFRESHED', delay: 0 });
        },
      ],
    },
  });
}
