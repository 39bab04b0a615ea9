import { describe, expect, it } from 'vitest';
import { createTokenSource, ErrorCode, memoryStore, storeKey, type LockFn, type Profile, type TokenSet, type TokenSourceOptions } from '../../src/index.js';
import { instellix, oauth2 } from '../../src/profiles/index.js';
import { json, mockFetch, type Responder } from '../helpers/mock-fetch.js';
import { fakeTime } from '../helpers/fake-time.js';


/** Lets background work (a renewal through the mock fetch) run to its end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

let issued = 0;
/** A token endpoint that issues numbered tokens with the given lifetime and rotates refresh tokens. */
const issuing =
  (expiresIn = 3600, refresh = false): Responder =>
  () => {
    issued++;
    return json({ access_token: `at-${issued}`, token_type: 'Bearer', expires_in: expiresIn, ...(refresh ? { refresh_token: `rt-${issued}` } : {}) });
  };

function setup(responders: Responder[], options: Partial<TokenSourceOptions> = {}, profileExtra: Partial<Parameters<typeof oauth2>[0]> = {}) {
  const mock = mockFetch(...responders);
  const time = fakeTime();
  const profile: Profile = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: mock.fetch, ...profileExtra });
  const source = createTokenSource(profile, { now: time.now, sleep: time.sleep, random: () => 0.5, ...options });
  return { mock, time, profile, source };
}

describe('the default store key (docs/security.md row 25)', () => {
  it('two sources differing only in scope or resource never share a token, in one store', async () => {
    const mock = mockFetch(issuing());
    const store = memoryStore();
    const base = { tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: mock.fetch };
    const sources = [
      oauth2({ ...base, scope: 'read' }),
      oauth2({ ...base, scope: ['read', 'write'] }),
      oauth2({ ...base, grant: { grant_type: 'client_credentials', resource: 'https://api-a.example' } }),
      oauth2({ ...base, grant: { grant_type: 'client_credentials', resource: 'https://api-b.example' } }),
    ].map((profile) => createTokenSource(profile, { store }));
    const tokens = [];
    for (const source of sources) tokens.push((await source.getToken()).accessToken);
    expect(new Set(tokens).size).toBe(4);
    mock.expectCount(4);
    // The scope's order does not make another entry; the key carries no secret.
    const again = createTokenSource(oauth2({ ...base, scope: ['write', 'read'] }), { store });
    expect((await again.getToken()).accessToken).toBe(tokens[1]);
    mock.expectCount(4);
    const password = oauth2({ ...base, grant: { type: 'password', username: 'ada', password: 'pw-canary-77' } });
    expect(storeKey(password)).toContain(':ada');
    expect(storeKey(password)).not.toContain('pw-canary-77');
    expect(storeKey(oauth2({ ...base }))).not.toContain('s;');
  });
});

describe('createTokenSource', () => {
  it('collapses 20 concurrent callers on a cold cache into one request', async () => {
    const { mock, source } = setup([issuing()]);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
    mock.expectCount(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  });

  it('collapses 20 concurrent callers with an expired token into exactly one refresh', async () => {
    const time = fakeTime();
    const expired: TokenSet = { accessToken: 'old', tokenType: 'Bearer', expiresAt: time.clock.now - 1, refreshToken: 'rt-0' };
    const { mock, source } = setup([issuing(3600, true)], { tokens: expired });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
    mock.expectCount(1);
    expect(new URLSearchParams(mock.requests[0]!.body).get('grant_type')).toBe('refresh_token');
    expect(new URLSearchParams(mock.requests[0]!.body).get('refresh_token')).toBe('rt-0');
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  });

  it('a failed request rejects every waiter and is not cached', async () => {
    const { mock, source } = setup([() => json({ error: 'invalid_client' }, 401), issuing()]);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => source.getToken()));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    mock.expectCount(1);
    await expect(source.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' });
    mock.expectCount(2);
  });

  it('reuses a valid token and replaces it a skew margin before expiry', async () => {
    const { mock, source, time } = setup([issuing(3600)]);
    const first = await source.getToken();
    time.clock.now += 3000_000;
    expect(await source.getToken()).toBe(first);
    mock.expectCount(1);
    time.clock.now = first.expiresAt! - 10_000; // inside the 30 s skew: no longer handed out
    const second = await source.getToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    mock.expectCount(2);
  });

  it('refreshes ahead in the background while still serving the current token', async () => {
    const { mock, source, time } = setup([issuing(3600)]);
    const first = await source.getToken();
    time.clock.now = first.expiresAt! - 45_000; // inside 2 × skew, outside skew
    expect(await source.getToken()).toBe(first);
    await settle();
    mock.expectCount(2);
    const next = await source.getToken();
    expect(next.accessToken).not.toBe(first.accessToken);
    mock.expectCount(2);
  });

  it('after a failed background renewal, serves the valid token and waits before trying again', async () => {
    const { mock, source, time } = setup([issuing(3600), () => json({}, 503)], { retries: 0 });
    const first = await source.getToken();
    time.clock.now = first.expiresAt! - 45_000;
    expect(await source.getToken()).toBe(first);
    await settle();
    mock.expectCount(2); // the background renewal, which failed
    for (let i = 0; i < 20; i++) {
      expect(await source.getToken()).toBe(first);
      await settle();
    }
    mock.expectCount(2);
    time.clock.now += 5_000;
    await source.getToken();
    await settle();
    mock.expectCount(3);
  });

  it('scales the margin down for short lifetimes instead of refreshing forever', async () => {
    const { mock, source, time } = setup([issuing(10)]);
    const first = await source.getToken();
    time.clock.now += 5_000;
    expect(await source.getToken()).toBe(first);
    mock.expectCount(1);
  });

  it('invalidate drops only the current token, so a late 401 with an old token refreshes nothing', async () => {
    const { mock, source } = setup([issuing()]);
    const first = await source.getToken();
    source.invalidate(first.accessToken);
    const second = await source.getToken();
    mock.expectCount(2);
    for (let i = 0; i < 50; i++) source.invalidate(first.accessToken);
    expect(await source.getToken()).toBe(second);
    mock.expectCount(2);
  });

  it('stores a rotated refresh token before the new access token is handed out', async () => {
    const time = fakeTime();
    const inner = memoryStore();
    const events: string[] = [];
    const store = {
      ...inner,
      set: async (key: string, tokens: TokenSet) => {
        events.push(`store ${tokens.refreshToken}`);
        await inner.set(key, tokens);
      },
    };
    const { source } = setup([issuing(3600, true)], { store, tokens: { accessToken: 'old', tokenType: 'Bearer', expiresAt: time.clock.now - 1, refreshToken: 'rt-0' } });
    const tokens = await source.getToken();
    events.push(`use ${tokens.accessToken}`);
    expect(events.at(-2)).toBe(`store ${tokens.refreshToken}`);
    expect(events.at(-1)).toBe(`use ${tokens.accessToken}`);
    expect((await inner.get('tokengate:oauth2:c@as.example'))?.refreshToken).toBe(tokens.refreshToken);
  });

  it('treats invalid_grant on refresh as terminal: clears the store, tells the app, never retries', async () => {
    const time = fakeTime();
    const store = memoryStore();
    const calls: string[] = [];
    const { mock, source } = setup([() => json({ error: 'invalid_grant' }, 400)], {
      store,
      tokens: { accessToken: 'old', tokenType: 'Bearer', expiresAt: time.clock.now - 1, refreshToken: 'rt-0' },
      onLinkRequired: (error) => calls.push(error.code),
    });
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.LINK_REQUIRED });
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.LINK_REQUIRED });
    mock.expectCount(1);
    expect(calls).toEqual([ErrorCode.LINK_REQUIRED, ErrorCode.LINK_REQUIRED]);
    await expect(store.get('tokengate:oauth2:c@as.example')).resolves.toBeUndefined();
  });

  it('a refresh refused with 400 or 401 and no OAuth error body (Glewlwyd, a dead refresh token) is terminal like invalid_grant: link required, store cleared, never asked again', async () => {
    for (const status of [400, 401]) {
      const time = fakeTime();
      const store = memoryStore();
      const calls: unknown[] = [];
      const { mock, source } = setup([() => new Response(null, { status })], {
        store,
        tokens: { accessToken: 'old', tokenType: 'Bearer', expiresAt: time.clock.now - 1, refreshToken: 'rt-0' },
        onLinkRequired: (error) => calls.push(error.cause),
      });
      await expect(source.getToken(), String(status)).rejects.toMatchObject({ code: ErrorCode.LINK_REQUIRED, status });
      await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.LINK_REQUIRED });
      mock.expectCount(1);
      expect(calls[0]).toMatchObject({ code: ErrorCode.HTTP_STATUS, status });
      await expect(store.get('tokengate:oauth2:c@as.example')).resolves.toBeUndefined();
    }
  });

  it('a refresh answered 503 with no body, or a network failure, stays retryable: the refresh token is kept', async () => {
    const time = fakeTime();
    const store = memoryStore();
    let linkRequired = 0;
    const { mock, source } = setup(
      [
        () => new Response(null, { status: 503 }),
        () => {
          throw new TypeError('fetch failed');
        },
        () => json({ access_token: 'at-new', token_type: 'Bearer', expires_in: 3600 }),
      ],
      { store, tokens: { accessToken: 'old', tokenType: 'Bearer', expiresAt: time.clock.now - 1, refreshToken: 'rt-0' }, onLinkRequired: () => (linkRequired += 1) },
    );
    await expect(source.getToken()).resolves.toMatchObject({ accessToken: 'at-new', refreshToken: 'rt-0' });
    mock.expectCount(3);
    expect(linkRequired).toBe(0);
  });

  it('a refresh refused with 403 and no body is passed on as it is, the link kept', async () => {
    const time = fakeTime();
    const store = memoryStore();
    const { source } = setup([() => new Response(null, { status: 403 })], { store, tokens: { accessToken: 'old', tokenType: 'Bearer', expiresAt: time.clock.now - 1, refreshToken: 'rt-0' } });
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.HTTP_STATUS, status: 403 });
    await expect(store.get('tokengate:oauth2:c@as.example')).resolves.toMatchObject({ refreshToken: 'rt-0' });
  });

  it('keeps the minimum interval between token requests, also after a 401', async () => {
    const { mock, source, time } = setup([issuing()], {}, { minInterval: 5_000 });
    const first = await source.getToken();
    source.invalidate(first.accessToken);
    await source.getToken();
    mock.expectCount(2);
    expect(time.clock.waits).toEqual([5_000]);
  });

  it('retries 5xx and network errors with bounded, jittered backoff', async () => {
    const { mock, source, time } = setup([() => json({}, 503), () => Promise.reject(new TypeError('reset')), issuing()]);
    await expect(source.getToken()).resolves.toMatchObject({ accessToken: expect.stringMatching(/^at-/) });
    mock.expectCount(3);
    expect(time.clock.waits).toEqual([125, 250]);
  });

  it('gives up after the configured retries', async () => {
    const { mock, source } = setup([() => json({}, 503)], { retries: 3 });
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.HTTP_STATUS, status: 503 });
    mock.expectCount(4);
  });

  it('does not retry a client error', async () => {
    const { mock, source } = setup([() => json({ error: 'invalid_client' }, 401)]);
    await expect(source.getToken()).rejects.toMatchObject({ code: 'invalid_client' });
    mock.expectCount(1);
  });

  it('waits out a 429 Retry-After, and passes on one that is too long', async () => {
    const short = setup([() => json({ error: 'slow_down' }, 429, { 'retry-after': '2' }), issuing()]);
    await short.source.getToken();
    expect(short.time.clock.waits).toEqual([2_000]);
    const long = setup([() => json({ error: 'slow_down' }, 429, { 'retry-after': '120' })]);
    await expect(long.source.getToken()).rejects.toMatchObject({ status: 429, retryAfter: 120_000 });
    long.mock.expectCount(1);
  });

  it('honours Retry-After on 503 as on 429 (RFC 9110 §10.2.3); over maxRetryAfter no retry, and the error carries it', async () => {
    const short = setup([() => json({}, 503, { 'retry-after': '3' }), issuing()]);
    await short.source.getToken();
    expect(short.time.clock.waits).toEqual([3_000]);
    short.mock.expectCount(2);
    const long = setup([() => json({}, 503, { 'retry-after': '99999' })]);
    await expect(long.source.getToken()).rejects.toMatchObject({ status: 503, retryAfter: 99_999_000 });
    long.mock.expectCount(1);
    expect(long.time.clock.waits).toEqual([]);
    const capped = setup([() => json({}, 503, { 'retry-after': '10' })], { maxRetryAfter: 5_000 });
    await expect(capped.source.getToken()).rejects.toMatchObject({ status: 503, retryAfter: 10_000 });
    capped.mock.expectCount(1);
  });

  it("retries once, after the window, the status a profile documents for requests inside its minimum interval (instellix's 401)", async () => {
    const time = fakeTime();
    const make = (...responders: Responder[]) => {
      const mock = mockFetch(...responders);
      const profile = instellix({ realm: 'acme', environment: 'sandbox', clientId: 'c', clientSecret: 's', fetch: mock.fetch });
      // The previous answer came 5 s ago (from before a restart): a server counting its window a little
      // differently may still refuse this request.
      const source = createTokenSource(profile, { now: time.now, sleep: time.sleep, lastAnswerAt: time.clock.now - 5_000 });
      return { mock, source };
    };
    const early = make(() => json({ error: 'unauthorized' }, 401), issuing());
    await expect(early.source.getToken()).resolves.toMatchObject({ accessToken: expect.stringMatching(/^at-/) });
    early.mock.expectCount(2);
    expect(time.clock.waits).toEqual([5_000]);
    // A second 401 is final: one retry, not a loop.
    const refused = make(() => json({ error: 'unauthorized' }, 401));
    await expect(refused.source.getToken()).rejects.toMatchObject({ status: 401 });
    refused.mock.expectCount(2);
    // With no recent request, a 401 is about the credentials: final at once.
    const cold = mockFetch(() => json({ error: 'unauthorized' }, 401));
    const profile = instellix({ realm: 'acme', environment: 'sandbox', clientId: 'c', clientSecret: 's', fetch: cold.fetch });
    await expect(createTokenSource(profile, { now: time.now, sleep: time.sleep }).getToken()).rejects.toMatchObject({ status: 401 });
    cold.expectCount(1);
  });

  it('paces from lastAnswerAt after a restart and reports every answer through onTokenAnswer', async () => {
    const answers: number[] = [];
    const time = fakeTime();
    const { mock, source } = setup([issuing()], { now: time.now, sleep: time.sleep, lastAnswerAt: time.clock.now - 1_000, onTokenAnswer: (at) => answers.push(at) }, { minInterval: 5_000 });
    await source.getToken();
    mock.expectCount(1);
    expect(time.clock.waits).toEqual([4_000]);
    expect(answers).toEqual([time.clock.now]);
  });

  it('getToken({ signal }) bounds one caller’s wait; the shared request goes on for the others', async () => {
    let release: (response: Response) => void = () => {};
    const { mock, source } = setup([() => new Promise<Response>((resolve) => (release = resolve))]);
    const patient = source.getToken();
    const controller = new AbortController();
    const hurried = source.getToken({ signal: controller.signal });
    controller.abort();
    await expect(hurried).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    await expect(source.getToken({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    await settle();
    release(json({ access_token: 'at-shared', token_type: 'Bearer', expires_in: 3600 }));
    await expect(patient).resolves.toMatchObject({ accessToken: 'at-shared' });
    mock.expectCount(1);
  });

  it('two instances sharing a store and a lock make one request', async () => {
    const mock = mockFetch(issuing());
    const time = fakeTime();
    const profile = oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch: mock.fetch });
    const store = memoryStore();
    let chain = Promise.resolve();
    const lock: LockFn = (_name, task) => {
      const run = chain.then(task);
      chain = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    };
    const a = createTokenSource(profile, { store, lock, now: time.now, sleep: time.sleep });
    const b = createTokenSource(profile, { store, lock, now: time.now, sleep: time.sleep });
    const [ta, tb] = await Promise.all([a.getToken(), b.getToken()]);
    mock.expectCount(1);
    expect(ta.accessToken).toBe(tb.accessToken);
  });

  it('a linked source without a refresh token asks for linking instead of using the app grant', async () => {
    const time = fakeTime();
    const { mock, source } = setup([issuing()], { tokens: { accessToken: 'x', tokenType: 'Bearer', expiresAt: time.clock.now - 1 } });
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.LINK_REQUIRED });
    mock.expectCount(0);
  });

  it('clear forgets the tokens here and in the store', async () => {
    const store = memoryStore();
    const { source, mock } = setup([issuing()], { store });
    await source.getToken();
    await source.clear();
    await expect(store.get('tokengate:oauth2:c@as.example')).resolves.toBeUndefined();
    await source.getToken();
    mock.expectCount(2);
  });
});

describe('peek', () => {
  it('returns the cached token while it is valid, without starting a request', async () => {
    const { mock, source, time } = setup([issuing(3600)]);
    expect(source.peek()).toBeUndefined();
    mock.expectCount(0);
    const tokens = await source.getToken();
    expect(source.peek()).toBe(tokens);
    time.clock.now = tokens.expiresAt! - 1_000;
    expect(source.peek()).toBeUndefined();
    source.invalidate(tokens.accessToken);
    expect(source.peek()).toBeUndefined();
    mock.expectCount(1);
  });
});

describe('a long-lived refresh token as the profile grant (Eshopbox)', () => {
  it('refused on the first request → link required, not a bare invalid_grant', async () => {
    const calls: string[] = [];
    const { mock, source } = setup([() => json({ error: 'invalid_grant' }, 400)], { onLinkRequired: (e) => calls.push(e.code) }, {
      grant: { grant_type: 'refresh_token', refresh_token: 'app-rt' },
    });
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.LINK_REQUIRED });
    expect(calls).toEqual([ErrorCode.LINK_REQUIRED]);
    mock.expectCount(1);
  });
});

describe('linked: true without a seed (a server reloading a linked set from its store)', () => {
  it('refreshes the stored set and never falls back to the app grant', async () => {
    const time = fakeTime();
    const store = memoryStore();
    await store.set('linked', { accessToken: 'old', tokenType: 'Bearer', expiresAt: time.clock.now - 1, refreshToken: 'rt-0' });
    const { mock, source } = setup([issuing(3600, true), () => json({ error: 'invalid_grant' }, 400)], { store, key: 'linked', linked: true });
    await source.getToken();
    expect(new URLSearchParams(mock.requests[0]!.body).get('grant_type')).toBe('refresh_token');
    await source.clear();
    await expect(source.getToken()).rejects.toMatchObject({ code: ErrorCode.LINK_REQUIRED });
    mock.expectCount(1);
  });
});

describe('refresh answers without scope (RFC 6749 §6)', () => {
  it('keep the scope originally granted', async () => {
    const time = fakeTime();
    const { source } = setup([() => json({ access_token: 'at-new', token_type: 'Bearer', expires_in: 60 })], {
      tokens: { accessToken: 'old', tokenType: 'Bearer', expiresAt: time.clock.now - 1, refreshToken: 'rt', scope: ['write'] },
    });
    await expect(source.getToken()).resolves.toMatchObject({ accessToken: 'at-new', scope: ['write'], refreshToken: 'rt' });
  });
});
