/**
 * SHA-256 digests (the first 16 bytes as hex, of the UTF-8 text) of every key and key ring entry
 * published in this repository: the sandbox's demo credentials, the development key ring and API key,
 * the example file's placeholders and the key rings written into tests (scripts/published-keys.mjs finds them;
 * test/node/published-keys.test.ts checks this list against it). Digests only, so the production
 * bundle carries none of the values (docs/security.md row 22).
 */
export const PUBLISHED_KEY_DIGESTS: ReadonlySet<string> = new Set([
  '0bf9de24d9714afa5c4ba504f8668668',
  '1df4b07d05b9b3b1115b4b6b22af319a',
  '2c4b19f9ec40dda2379318bd5ad9c00c',
  '2efc7c08d121c25d598c98766afb24ba',
  '3a98b2e05e9a74150a1dfef4afb5dea4',
  '41b3662466b7975a1c980766e0b2ca3b',
  '73af02c1f60022d3043b4f51004f068e',
  '9ad64a2a01719e555faab3fcba917342',
  'd4f40ff985a3d33f698c71df32bde7b0',
  'de01f03145711642861565784e25bae4',
  'e1e8215afd537fea0c6ab642b936d34c',
  'f289ad656c1b1165d5647d33e3f6e50c',
  'f665a8dc4292bb2c17d9b5388d1f1e23',
]);
