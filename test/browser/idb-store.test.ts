import { describe, expect, it } from 'vitest';
import { idbStore } from '../../src/browser/index.js';
import type { TokenSet } from '../../src/index.js';

// Runs in Chromium only: IndexedDB is the real one.
describe('idbStore', () => {
  it('keeps, returns and deletes a token set, long tokens whole', async () => {
    const store = idbStore({ database: `tokengate-test-${crypto.randomUUID()}` });
    const tokens: TokenSet = { accessToken: 'a'.repeat(4096), tokenType: 'Bearer', expiresAt: Date.now() + 60_000, refreshToken: 'r', scope: ['x', 'y'] };
    await expect(store.get('k')).resolves.toBeUndefined();
    await store.set('k', tokens);
    await expect(store.get('k')).resolves.toEqual(tokens);
    await store.delete('k');
    await expect(store.get('k')).resolves.toBeUndefined();
  });

  it('separate databases do not see each other', async () => {
    const a = idbStore({ database: `tokengate-test-${crypto.randomUUID()}` });
    const b = idbStore({ database: `tokengate-test-${crypto.randomUUID()}` });
    await a.set('k', { accessToken: 'x', tokenType: 'Bearer' });
    await expect(b.get('k')).resolves.toBeUndefined();
  });
});
