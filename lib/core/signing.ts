import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';
import {
  hmacMidstates,
  hmacSha256EqualsFromMidstates,
  hmacSha256HexFromMidstates,
  type HmacMidstates,
} from './hmac-midstate.js';
import { PusherValidationError } from './pusher.errors.js';

/** Query fields the protocol computes itself; a caller's `params` may never set them. */
const PROTOCOL_FIELDS: ReadonlySet<string> = new Set([
  'auth_key',
  'auth_timestamp',
  'auth_version',
  'auth_signature',
  'body_md5',
]);

/** HMAC block size of SHA-256, in bytes. */
const SHA256_BLOCK = 64;
/*
 * Two HMAC paths: short messages (signatures we send, small webhook bodies) start from the key's precomputed SHA-256
 * midstates (hmac-midstate.ts), anything longer goes to node:crypto.
 */

/** The midstates of each secret's padded keys. */
const midstatesBySecret = new Map<string, HmacMidstates>();
/** An app has one secret, a multi-tenant server a few; the cap keeps a caller that varies secrets from growing it. */
const MIDSTATES_CAP = 64;

/** HMAC-SHA256 of `data` (UTF-8 when a string) under `secret`, as raw bytes (RFC 2104), by node:crypto. */
export function hmacSha256(secret: string | Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/** Lower-case hex HMAC-SHA256 of `data` (UTF-8 when a string) under `secret`, by node:crypto. */
export function hmacSha256Hex(secret: string | Uint8Array, data: string | Uint8Array): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/**
 * Lower-case hex HMAC-SHA256 of a signature that is sent out (an auth answer, a request's `auth_signature`): short
 * ASCII messages start from the key's precomputed SHA-256 midstates, which is about twice as fast. To check a
 * caller's signature use {@link verifySignatureHex}: comparing hex strings with `===` would leak timing.
 */
export function outboundSignatureHex(secret: string, message: string): string {
  return hmacSha256HexFromMidstates(midstatesFor(secret), message) ?? hmacSha256Hex(secret, message);
}

/**
 * Whether `signatureHex` is the HMAC-SHA256 of `body` under `secret`, compared in constant time. The caller must
 * have checked that `signatureHex` is 64 hex digits (any case).
 */
export function verifySignatureHex(secret: string, body: string | Uint8Array, signatureHex: string): boolean {
  const fromMidstates = hmacSha256EqualsFromMidstates(midstatesFor(secret), body, signatureHex);
  return fromMidstates ?? constantTimeEqualDigest(hmacSha256(secret, body), signatureHex);
}

function midstatesFor(secret: string): HmacMidstates {
  const known = midstatesBySecret.get(secret);
  if (known !== undefined) return known;
  let key: Uint8Array = Buffer.from(secret, 'utf8');
  if (key.length > SHA256_BLOCK) key = createHash('sha256').update(key).digest();
  const inner = Buffer.alloc(SHA256_BLOCK, 0x36);
  const outer = Buffer.alloc(SHA256_BLOCK, 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i] = inner[i]! ^ key[i]!;
    outer[i] = outer[i]! ^ key[i]!;
  }
  const midstates = hmacMidstates(inner, outer);
  if (midstatesBySecret.size >= MIDSTATES_CAP) midstatesBySecret.clear();
  midstatesBySecret.set(secret, midstates);
  return midstates;
}

/** Lower-case hex MD5 of the UTF-8 bytes of `body` (the protocol's `body_md5`). */
export function md5Hex(body: string | Uint8Array): string {
  // crypto.hash (Node ≥ 20.12, below our engines floor) hashes in one native call, about twice as fast as a Hash object.
  return hash('md5', body, 'hex');
}

const HEX_DIGITS = /^[0-9a-fA-F]*$/;

/**
 * Compares a computed digest with a hex string (any case) without leaking, through timing, where they differ.
 * Anything that is not hex of the digest's size compares false; the length of a digest is public.
 */
export function constantTimeEqualDigest(digest: Buffer, hex: string): boolean {
  if (typeof hex !== 'string' || hex.length !== digest.length * 2 || !HEX_DIGITS.test(hex)) return false;
  // Checked first: Buffer.from(hex, 'hex') reads only the low byte of each character, so "š" would pass for "a".
  return timingSafeEqual(digest, Buffer.from(hex, 'hex'));
}

/** True when `name` is one of the query fields the signature owns (`auth_*`, `body_md5`), in any letter case. */
export function isProtocolQueryField(name: string): boolean {
  return PROTOCOL_FIELDS.has(name.toLowerCase()) || name.toLowerCase().startsWith('auth_');
}

/**
 * Builds the signed, URL-encoded query string (no leading `?`) of one HTTP API call: `params` plus `auth_key`,
 * `auth_timestamp`, `auth_version=1.0`, `body_md5` (when `body` is given) and `auth_signature`, signed as the
 * protocol says: `METHOD\nPATH\nQUERY` with keys lower-cased, sorted and not escaped.
 *
 * @throws PusherValidationError when a param key is a protocol field (`auth_*`, `body_md5`, any case) or two keys
 *   differ only in case.
 * @example signRequestQuery({ key, secret, method: 'POST', path: '/apps/3/events', body, timestamp: 1353088179 })
 */
export function signRequestQuery(args: {
  key: string;
  secret: string;
  method: 'GET' | 'POST';
  path: string;
  params?: Record<string, string>;
  body?: string;
  timestamp: number;
}): string {
  const timestamp = Math.floor(args.timestamp);
  const key = args.key;
  // The four protocol fields already sort in this order: auth_key < auth_timestamp < auth_version < body_md5.
  const bodyMd5 = args.body === undefined ? undefined : md5Hex(args.body);
  const protocolTail =
    '&auth_timestamp=' + timestamp + '&auth_version=1.0' + (bodyMd5 === undefined ? '' : '&body_md5=' + bodyMd5);

  const params = args.params;
  let toSign: string;
  let wire: string;
  if (params === undefined || !hasOwnKeys(params)) {
    // Hot path (every trigger): nothing to sort or escape beyond the key.
    toSign = 'auth_key=' + key + protocolTail;
    wire = isUrlSafe(key) ? toSign : 'auth_key=' + encodeURIComponent(key) + protocolTail;
  } else {
    const entries: Array<[string, string]> = [
      ['auth_key', key],
      ['auth_timestamp', String(timestamp)],
      ['auth_version', '1.0'],
    ];
    if (bodyMd5 !== undefined) entries.push(['body_md5', bodyMd5]);
    const seen = new Set<string>();
    for (const name of Object.keys(params)) {
      const lower = name.toLowerCase();
      if (isProtocolQueryField(lower)) {
        throw new PusherValidationError({
          message: `Query parameter "${name}" is computed by the request signature and cannot be set by the caller; remove it from params.`,
          rule: 'query-param-reserved',
          value: name,
        });
      }
      if (seen.has(lower)) {
        throw new PusherValidationError({
          message: `Query parameter "${name}" appears twice once keys are lower-cased (the signature lower-cases keys); keep one.`,
          rule: 'query-param-duplicate',
          value: name,
        });
      }
      seen.add(lower);
      entries.push([lower, String(params[name])]);
    }
    entries.sort(compareEntries);
    toSign = '';
    wire = '';
    for (let i = 0; i < entries.length; i++) {
      const [name, value] = entries[i]!;
      const sep = i === 0 ? '' : '&';
      toSign += sep + name + '=' + value;
      wire += sep + encodeURIComponent(name) + '=' + encodeURIComponent(value);
    }
  }

  const signature = outboundSignatureHex(args.secret, args.method + '\n' + args.path + '\n' + toSign);
  return wire + '&auth_signature=' + signature;
}

function hasOwnKeys(record: Record<string, string>): boolean {
  for (const name in record) if (Object.prototype.hasOwnProperty.call(record, name)) return true;
  return false;
}

function compareEntries(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

const URL_SAFE = /^[A-Za-z0-9\-_.~]*$/;
function isUrlSafe(value: string): boolean {
  return URL_SAFE.test(value);
}
