/**
 * What the module needs of a TextEncoder, typed by shape: `TextEncoder` is a type only in the DOM lib, and
 * consumers on `lib: ["ES2022"]` + @types/node read this d.ts. encode always returns a fresh ArrayBuffer
 * (Workers' types say ArrayBufferLike).
 */
interface Utf8Encoder {
  encode(input: string): Uint8Array<ArrayBuffer>;
}
/** One encoder for the module: PKCE makes one per pair otherwise. */
export const utf8: Utf8Encoder = new TextEncoder() as Utf8Encoder;

/**
 * The bytes as a string of the same char codes, for btoa. A loop, not String.fromCharCode(...bytes):
 * faster for the 32-byte values of PKCE and state, and without an argument-count limit.
 */
function binaryString(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return binary;
}

/** base64url without padding (RFC 4648 §5), as PKCE and state values use. */
export function base64url(bytes: Uint8Array): string {
  return btoa(binaryString(bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Standard base64 of the UTF-8 bytes of `text` (btoa alone only takes Latin-1). */
export function base64Utf8(text: string): string {
  return btoa(binaryString(utf8.encode(text)));
}

/** `application/x-www-form-urlencoded` encoding of one value (spaces as `+`), as RFC 6749 §2.3.1 asks. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** Random bytes from the platform CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/**
 * Compares two strings in time that depends only on their lengths, for state and other values an
 * attacker may probe.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  // UTF-16 code units: equal strings have equal units, and nothing is allocated (the proxy calls this
  // on every browser request). Past the shorter string, charCodeAt is NaN, which `^` reads as 0.
  let diff = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
