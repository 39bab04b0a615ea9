import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsGrant, createTokenSource, ErrorCode } from '../../src/index.js';
import { oauth2 } from '../../src/profiles/index.js';
import { httpServer, type LocalServer } from '../helpers/local-server.js';

// A token endpoint that sends its headers and a first byte of the body, then stalls: real fetch,
// real sockets on 127.0.0.1, so the request's deadline also aborts the body stream.
let server: LocalServer;
let requests = 0;
beforeAll(async () => {
  server = await httpServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"access_token":');
    // Never ends; the server's close() destroys the socket.
  });
});
afterAll(() => server.close());

const profile = (timeout: number) => oauth2({ tokenUrl: `${server.url}/token`, clientId: 'c', clientSecret: 's', timeout });

describe('deadlines with a real fetch and a stalled body', () => {
  it('a stalled token body is ERR_TIMEOUT, at the deadline', async () => {
    const started = Date.now();
    await expect(clientCredentialsGrant(profile(300))).rejects.toMatchObject({ code: ErrorCode.TIMEOUT, status: 200 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('getToken({ signal }) bounds the wait although the source would retry the timeout', async () => {
    const before = requests;
    const source = createTokenSource(profile(1_000), { retries: 2 });
    const started = Date.now();
    await expect(source.getToken({ signal: AbortSignal.timeout(200) })).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    expect(Date.now() - started).toBeLessThan(900);
    // The shared request runs on to its own end (timeouts, retries), then the source fails for good.
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
    expect(requests - before).toBe(3);
  });
});
