/**
 * HMAC-SHA256 of short ASCII messages from precomputed key midstates (FIPS 180-4, RFC 2104).
 *
 * Why: signing a channel subscription or a request is one HMAC of 30–150 bytes. Node's `createHmac` re-hashes the
 * padded key twice on every call and crosses into C++ three times; starting from the SHA-256 state that the padded
 * key already produced leaves two or three compressions, which V8 runs in about half the time. Longer or non-ASCII
 * messages return `undefined` and the caller uses node:crypto. The code has no data-dependent branch or table
 * lookup on the state. Webhook verification compares the resulting words in constant time.
 * A property test checks it against node:crypto.
 */

const ROUND_CONSTANTS = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const INITIAL_STATE = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Messages up to this many characters take the midstate path; beyond it node:crypto is as fast. */
export const MIDSTATE_MAX_MESSAGE = 150;

/** The digest as bytes, for Node's native hex encoder (one flat string, no table lookups in JavaScript). */
const digestBytes = Buffer.allocUnsafe(32);

// Scratch space shared by every call: JavaScript runs one call at a time and none of them yields.
const schedule = new Int32Array(64);
const state = new Int32Array(8);

/** The SHA-256 states after the inner and the outer padded key block. */
export interface HmacMidstates {
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

/** Midstates of a key given as its inner and outer padded blocks (64 bytes each, key XOR 0x36 / 0x5c). */
export function hmacMidstates(innerPaddedKey: Uint8Array, outerPaddedKey: Uint8Array): HmacMidstates {
  const inner = Int32Array.from(INITIAL_STATE);
  loadBlock(innerPaddedKey);
  compress(inner);
  const outer = Int32Array.from(INITIAL_STATE);
  loadBlock(outerPaddedKey);
  compress(outer);
  return { inner, outer };
}

/**
 * Lower-case hex HMAC-SHA256 of `message`, or `undefined` when it is longer than {@link MIDSTATE_MAX_MESSAGE} or
 * holds a character outside ASCII (its UTF-8 bytes then differ from its char codes).
 */
export function hmacSha256HexFromMidstates(keys: HmacMidstates, message: string): string | undefined {
  if (message.length > MIDSTATE_MAX_MESSAGE || !hmacIntoState(keys, message)) return undefined;
  for (let index = 0; index < 8; index++) digestBytes.writeInt32BE(state[index]!, index * 4);
  return digestBytes.toString('hex');
}

/** Bodies up to this many bytes are verified from midstates; beyond it node:crypto is as fast. */
export const MIDSTATE_MAX_VERIFIED_BODY = 256;

/**
 * Whether `signatureHex` (64 hex digits, any case: the caller checked) is the HMAC-SHA256 of `body`, compared in
 * constant time (every word is compared, differences are OR-ed together). `undefined` when the body is too long or
 * a string with a character outside ASCII: verify with node:crypto then.
 */
export function hmacSha256EqualsFromMidstates(
  keys: HmacMidstates,
  body: string | Uint8Array,
  signatureHex: string,
): boolean | undefined {
  const length = typeof body === 'string' ? body.length : body.byteLength;
  if (length > MIDSTATE_MAX_VERIFIED_BODY || !hmacIntoState(keys, body)) return undefined;
  let difference = 0;
  for (let index = 0; index < 8; index++) {
    difference |= state[index]! ^ (parseInt(signatureHex.slice(index * 8, index * 8 + 8), 16) | 0);
  }
  return difference === 0;
}

/** Largest message either path takes, as bytes. */
const SCRATCH_BYTES = Math.max(MIDSTATE_MAX_MESSAGE, MIDSTATE_MAX_VERIFIED_BODY);
/** An ASCII string's bytes are copied here (one native call), so that one monomorphic loop reads every message. */
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

/** Leaves HMAC(key, message) in `state`; false (state unusable) when a string holds a character outside ASCII. */
function hmacIntoState(keys: HmacMidstates, message: string | Uint8Array): boolean {
  let bytes: Uint8Array;
  let length: number;
  if (typeof message === 'string') {
    length = message.length;
    // Equal lengths mean every character is one UTF-8 byte, i.e. ASCII: then latin1 bytes are the UTF-8 bytes.
    if (Buffer.byteLength(message, 'utf8') !== length) return false;
    scratch.write(message, 0, length, 'latin1');
    bytes = scratch;
  } else {
    bytes = message;
    length = message.byteLength;
  }
  hashBytesIntoState(keys, bytes, length);
  return true;
}

function hashBytesIntoState(keys: HmacMidstates, bytes: Uint8Array, length: number): void {
  state.set(keys.inner);
  const words = schedule;
  let offset = 0;
  for (; length - offset >= 64; offset += 64) {
    for (let word = 0; word < 16; word++) {
      const at = offset + word * 4;
      words[word] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    }
    compress(state);
  }
  const rest = length - offset;
  words.fill(0, 0, 16);
  for (let index = 0; index < rest; index++) {
    words[index >> 2] |= bytes[offset + index]! << (24 - 8 * (index & 3));
  }
  words[rest >> 2] |= 0x80 << (24 - 8 * (rest & 3));
  if (rest >= 56) {
    compress(state);
    words.fill(0, 0, 16);
  }
  // Bit length of everything the inner hash saw: the 64-byte key block and the message (fits in 32 bits here).
  words[15] = (64 + length) * 8;
  compress(state);

  // Outer hash: the outer key midstate, then the 32-byte inner digest and its padding in one block.
  for (let index = 0; index < 8; index++) words[index] = state[index]!;
  words[8] = 0x80000000;
  words.fill(0, 9, 15);
  words[15] = (64 + 32) * 8;
  state.set(keys.outer);
  compress(state);
}

function loadBlock(bytes: Uint8Array): void {
  for (let word = 0; word < 16; word++) {
    const at = word * 4;
    schedule[word] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  }
}

/** One SHA-256 compression of the block in `schedule[0..15]` into `into`. */
function compress(into: Int32Array): void {
  const w = schedule;
  for (let i = 16; i < 64; i++) {
    const w15 = w[i - 15]!;
    const w2 = w[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = into[0]!;
  let b = into[1]!;
  let c = into[2]!;
  let d = into[3]!;
  let e = into[4]!;
  let f = into[5]!;
  let g = into[6]!;
  let h = into[7]!;
  for (let i = 0; i < 64; i++) {
    const sum1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choose = (e & f) ^ (~e & g);
    const t1 = (h + sum1 + choose + ROUND_CONSTANTS[i]! + w[i]!) | 0;
    const sum0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (sum0 + majority) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  into[0] = (into[0]! + a) | 0;
  into[1] = (into[1]! + b) | 0;
  into[2] = (into[2]! + c) | 0;
  into[3] = (into[3]! + d) | 0;
  into[4] = (into[4]! + e) | 0;
  into[5] = (into[5]! + f) | 0;
  into[6] = (into[6]! + g) | 0;
  into[7] = (into[7]! + h) | 0;
}
