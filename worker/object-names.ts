import type { TokenCoordinator } from './coordinator.js';
import { keyedName, parseKeyRing, type KeyRing } from './crypto.js';
import type { Env } from './env.js';

/** Which credential: the vendor's app credential, or a linked session's account. */
export type Credential = { kind: 'app'; vendor: string } | { kind: 'session'; vendor: string; session: string };

type Stub = DurableObjectStub<TokenCoordinator>;

/** The key ring of `env.TOKENGATE_KEYS` (already checked by config.ts), parsed once per secret value. */
let ring: { secret: string; keys: KeyRing } | undefined;
function keysOf(env: Env): KeyRing {
  const secret = String(env['TOKENGATE_KEYS'] ?? '');
  if (ring?.secret !== secret) ring = { secret, keys: parseKeyRing(secret) };
  return ring.keys;
}

/**
 * The Durable Object name of a credential: `app:<vendor>` for an app credential, and for a linked
 * session `session:<HMAC-SHA-256 of the id>` under the key ring's naming key (worker/crypto.ts
 * `namingKey`). A session id is a bearer secret: it never appears in an object's name, where the
 * platform's tooling and traces show it, as it never appears in a KV key.
 */
export async function objectName(env: Env, credential: Credential): Promise<string> {
  if (credential.kind === 'app') return `app:${credential.vendor}`;
  return `session:${await keyedName(keysOf(env), `tokengate-session-object:${credential.session}`)}`;
}

/**
 * Sessions whose object this isolate has already moved from its old name (bounded: the oldest are
 * forgotten first, and forgetting one only costs one more look at its old name).
 */
const moved = new Set<string>();
const MAX_MOVED = 10_000;

/** A session id just minted here: it never had an object under the old name, so there is nothing to move. */
export function mintedSession(session: string): string {
  remember(session);
  return session;
}

function remember(session: string): void {
  if (moved.size >= MAX_MOVED) moved.delete(moved.values().next().value!);
  moved.add(session);
}

/**
 * The credential's Durable Object. Until this release, a session's object was named `session:<id>`;
 * the first time an isolate meets a session, whatever that object still holds (linked tokens, the link
 * mode, a DPoP key, a pending link) moves to the object of the keyed name, so a shopper linked before
 * stays linked. The sealed values move as they are: their additional data is the storage key, not the
 * object's name. Once every session of that time has expired (`SESSION_MAX_AGE`, 30 days) this step
 * finds nothing and can go.
 */
export async function coordinatorObject(env: Env, credential: Credential): Promise<Stub> {
  const stub = env.COORDINATOR.get(env.COORDINATOR.idFromName(await objectName(env, credential)));
  if (credential.kind === 'session' && !moved.has(credential.session)) {
    const legacy = env.COORDINATOR.get(env.COORDINATOR.idFromName(`session:${credential.session}`));
    const entries = await legacy.handOver();
    if (entries.length > 0) await stub.adopt(entries);
    remember(credential.session);
  }
  return stub;
}
