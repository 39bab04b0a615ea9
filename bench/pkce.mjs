// PKCE pairs: ours (`createPkce`) beside the same job written inline on plain WebCrypto and beside
// oauth4webapi (`generateRandomCodeVerifier` + `calculatePKCECodeChallenge`), interleaved in one run:
// 7 rounds of 10,000 pairs each, the median round reported; the ratio is the median of the per-round
// ratios.
import * as oauth from 'oauth4webapi';
import { createPkce } from '../dist/index.js';
import { pathToFileURL } from 'node:url';

const ROUNDS = 7;
const N = 10_000;
const CHUNK = 500;

/** What a user writes with nothing but WebCrypto: 32 random bytes → base64url → SHA-256 → base64url. */
function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function plainPkce() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

async function oauth4webapiPkce() {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
}

const CONTENDERS = { ours: () => createPkce(), plain: plainPkce, oauth4webapi: oauth4webapiPkce };

/** Runs `count` pairs one after another; answers the milliseconds taken. */
async function time(fn, count) {
  const start = performance.now();
  let sink;
  for (let i = 0; i < count; i++) sink = await fn();
  if (sink.challenge.length !== 43) throw new Error('a challenge is 43 characters');
  return performance.now() - start;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function pkce() {
  const names = Object.keys(CONTENDERS);
  for (const name of names) await time(CONTENDERS[name], CHUNK); // warm-up
  // Each round runs N pairs of every contender in chunks, alternating contenders chunk by chunk (in
  // a rotating order), so a burst of load on the machine hits all of them alike.
  const perRound = Object.fromEntries(names.map((name) => [name, []]));
  const ratios = { ours: [], oauth4webapi: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const elapsed = Object.fromEntries(names.map((name) => [name, 0]));
    for (let chunk = 0; chunk < N / CHUNK; chunk++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + chunk + i) % names.length];
        elapsed[name] += await time(CONTENDERS[name], CHUNK);
      }
    }
    for (const name of names) perRound[name].push(N / (elapsed[name] / 1000));
    ratios.ours.push(elapsed.ours / elapsed.plain);
    ratios.oauth4webapi.push(elapsed.oauth4webapi / elapsed.plain);
  }
  const ours = median(perRound.ours);
  const plain = median(perRound.plain);
  const peer = median(perRound.oauth4webapi);
  const ratio = { ours: median(ratios.ours), oauth4webapi: median(ratios.oauth4webapi) };
  const ops = (value) => `${(value / 1000).toFixed(1)} k pairs/s`;
  return [
    { what: '`createPkce()` (tokengate)', value: ops(ours), ratio: `${ratio.ours.toFixed(2)}x`, goal: '≤ 1.05x', pass: ratio.ours <= 1.05 },
    { what: 'plain `crypto.getRandomValues` + `crypto.subtle.digest`, written inline', value: ops(plain), ratio: '1.00x', goal: 'baseline' },
    { what: `oauth4webapi ${(await import('oauth4webapi/package.json', { with: { type: 'json' } })).default.version} \`generateRandomCodeVerifier\` + \`calculatePKCECodeChallenge\``, value: ops(peer), ratio: `${ratio.oauth4webapi.toFixed(2)}x`, goal: 'measured' },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const start = performance.now();
  for (const row of await pkce()) console.log(row);
  console.log(`${((performance.now() - start) / 1000).toFixed(1)} s`);
}
