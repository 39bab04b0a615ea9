// getToken() on a cached token beside a plain Map lookup, interleaved in one run.
import { createTokenSource } from '../dist/index.js';
import { oauth2 } from '../dist/profiles/index.js';

const ROUNDS = 7;
const N = 1_000_000;

async function opsPerSecond(fn) {
  const start = performance.now();
  for (let i = 0; i < N; i++) await fn();
  return N / ((performance.now() - start) / 1000);
}

function syncOpsPerSecond(fn) {
  const start = performance.now();
  let sink;
  for (let i = 0; i < N; i++) sink = fn();
  if (sink === undefined) throw new Error('unreachable');
  return N / ((performance.now() - start) / 1000);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function hotPath() {
  const fetch = async () => Response.json({ access_token: 'at', token_type: 'Bearer', expires_in: 3600 });
  const source = createTokenSource(oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch }));
  await source.getToken();
  const map = new Map([['tokengate:oauth2:c', { accessToken: 'at', tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000 }]]);
  const results = { getToken: [], awaitedMap: [], peek: [], syncMap: [], checkedMap: [] };
  for (let round = 0; round < ROUNDS; round++) {
    results.getToken.push(await opsPerSecond(() => source.getToken()));
    results.awaitedMap.push(await opsPerSecond(() => map.get('tokengate:oauth2:c')));
    results.peek.push(syncOpsPerSecond(() => source.peek()));
    results.syncMap.push(syncOpsPerSecond(() => map.get('tokengate:oauth2:c')));
    results.checkedMap.push(syncOpsPerSecond(() => {
      const entry = map.get('tokengate:oauth2:c');
      return entry !== undefined && Date.now() < entry.expiresAt ? entry : entry;
    }));
  }
  const ours = median(results.getToken);
  const awaited = median(results.awaitedMap);
  const sync = median(results.syncMap);
  const peek = median(results.peek);
  const checked = median(results.checkedMap);
  return [
    { what: '`await source.getToken()`, cached token', value: `${(ours / 1e6).toFixed(2)} M ops/s`, ratio: '', goal: 'measured' },
    { what: '`await map.get(key)` (a cache behind an async API)', value: `${(awaited / 1e6).toFixed(2)} M ops/s`, ratio: `${(awaited / ours).toFixed(2)}x`, goal: '≤ 3x', pass: awaited / ours <= 3 },
    { what: '`source.peek()`, cached token, synchronous', value: `${(peek / 1e6).toFixed(2)} M ops/s`, ratio: '', goal: 'measured' },
    { what: '`map.get(key)` + `Date.now()` expiry check, synchronous', value: `${(checked / 1e6).toFixed(2)} M ops/s`, ratio: `${(checked / peek).toFixed(2)}x`, goal: '≤ 3x', pass: checked / peek <= 3 },
    { what: '`map.get(key)`, synchronous, no expiry check', value: `${(sync / 1e6).toFixed(2)} M ops/s`, ratio: `${(sync / peek).toFixed(2)}x`, goal: 'reference only' },
  ];
}
