/**
 * Generators of hostile webhook requests for the property-based security specs (issue 6).
 *
 * Every generated case carries the exact bytes that would travel on the wire plus the key and signature headers, so a
 * spec can decide with an independent oracle ({@link webhookOracle}) whether the library is allowed to accept it:
 * only when the signature is the lower-case hex HMAC-SHA256 of exactly those bytes under the right secret, the key is
 * the app key, and the body has the documented shape.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';

/** The app every hostile spec talks to. The secret is distinctive so that a leak into a log line is easy to find. */
export const HOSTILE_APP = {
  appId: '4242',
  key: 'hostile-key-5f3a9e',
  secret: 'hostile-secret-c7e21d4b0a8f6e3-do-not-log',
} as const;

/** Every event name of the webhook protocol (docs: pusher-protocol.md, "Webhooks"). */
export const KNOWN_EVENT_NAMES = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_event',
  'cache_miss',
  'subscription_count',
] as const;

/** Lower-case hex HMAC-SHA256 of the exact bytes. */
export function hmacHex(secret: string, bytes: string | Uint8Array): string {
  return createHmac('sha256', secret)
    .update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes)
    .digest('hex');
}

/** Every header value a Node HTTP stack could hand over, and a few it could not (arrays). */
export type HeaderValue = string | string[] | undefined | null;

/** One webhook request as the core sees it. */
export interface WebhookCase {
  /** What produced the case, shown when a property fails. */
  label: string;
  body: Buffer;
  key: HeaderValue;
  signature: HeaderValue;
}

// ---------------------------------------------------------------------------------------------------------------
// Well-formed payloads (the control: signed correctly, these MUST be accepted)
// ---------------------------------------------------------------------------------------------------------------

const CHANNEL_CHARS = /^[A-Za-z0-9_\-=@,.;]{1,40}$/;

/** Channel names that are valid and not end-to-end encrypted (decryption would change `data`). */
export const channelNameArb: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('', 'private-', 'presence-', 'cache-'), fc.stringMatching(CHANNEL_CHARS))
  .map(([prefix, rest]) => prefix + rest)
  .filter((name) => name.length <= 200 && !name.startsWith('private-encrypted-'));

const userIdArb = fc.stringMatching(/^[A-Za-z0-9_\-=@,.;]{1,20}$/);
const socketIdArb = fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a}.${b}`);

/** Any string, including lone surrogates, NUL and other control characters. */
export const nastyStringArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 6 }),
  fc.string({
    unit: fc.constantFrom('\u0000', '\n', '\r', '"', '\\', '\u2028', '\u2029', '\ufeff', '\uffff'),
    maxLength: 8,
  }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** One event of each documented type, with payload-ish strings that may be hostile (they are data, not structure). */
export const webhookEventArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ name: fc.constantFrom('channel_occupied', 'channel_vacated', 'cache_miss'), channel: channelNameArb }),
  fc.record({ name: fc.constantFrom('member_added', 'member_removed'), channel: channelNameArb, user_id: userIdArb }),
  fc.record(
    {
      name: fc.constant('client_event'),
      channel: channelNameArb,
      event: nastyStringArb.map((s) => `client-${s}`),
      data: nastyStringArb,
      socket_id: socketIdArb,
      user_id: userIdArb,
    },
    { requiredKeys: ['name', 'channel', 'event', 'data', 'socket_id'] },
  ),
  fc.record({ name: fc.constant('subscription_count'), channel: channelNameArb, subscription_count: fc.nat() }),
);

/** A documented webhook payload. `time_ms` is recent so that a replay window, if one is on, does not interfere. */
export const webhookPayloadArb: fc.Arbitrary<{ time_ms: number; events: Record<string, unknown>[] }> = fc.record({
  time_ms: fc.integer({ min: -60_000, max: 0 }).map((delta) => Date.now() + delta),
  events: fc.array(webhookEventArb, { minLength: 1, maxLength: 5 }),
});

/** Body bytes of a documented payload exactly as Pusher would send them (compact JSON). */
export const webhookBodyArb: fc.Arbitrary<Buffer> = webhookPayloadArb.map((p) =>
  Buffer.from(JSON.stringify(p), 'utf8'),
);

/** A correctly signed, well-formed request. */
export const signedWebhookArb: fc.Arbitrary<WebhookCase> = webhookBodyArb.map((body) => ({
  label: 'correctly signed',
  body,
  key: HOSTILE_APP.key,
  signature: hmacHex(HOSTILE_APP.secret, body),
}));

// ---------------------------------------------------------------------------------------------------------------
// Mutations of correctly signed bodies
// ---------------------------------------------------------------------------------------------------------------

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'truncate'; keep: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
);

/** Apply one mutation; the result always differs from the input (length or one bit). */
export function mutate(body: Buffer, m: Mutation): Buffer {
  const n = body.length;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(body);
      const at = m.at % n;
      out[at] = (out[at] as number) ^ (1 << m.bit);
      return out;
    }
    case 'insert': {
      const at = m.at % (n + 1);
      return Buffer.concat([body.subarray(0, at), Buffer.from([m.byte]), body.subarray(at)]);
    }
    case 'delete': {
      const at = m.at % n;
      return Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
    }
    case 'append':
      return Buffer.concat([body, m.bytes]);
    case 'truncate':
      return body.subarray(0, m.keep % n);
  }
}

/**
 * A correctly signed body, then one to three byte-level mutations, sent with the ORIGINAL signature.
 * (A mutation can occasionally be undone by the next one; the oracle compares bytes, so that case is still judged right.)
 */
export const mutatedWebhookArb: fc.Arbitrary<WebhookCase> = fc
  .tuple(webhookBodyArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
  .map(([original, mutations]) => ({
    label: `mutated ${mutations.map((m) => m.kind).join('+')}`,
    body: mutations.reduce(mutate, original),
    key: HOSTILE_APP.key,
    signature: hmacHex(HOSTILE_APP.secret, original),
  }));

/** Reorder an object's keys (recursively) with a deterministic permutation seed. */
function reorderKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => reorderKeys(v, seed));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const rotated = entries.map((_, i) => entries[(i + seed) % entries.length] as [string, unknown]);
    if (seed % 2 === 1) rotated.reverse();
    return Object.fromEntries(rotated.map(([k, v]) => [k, reorderKeys(v, seed)]));
  }
  return value;
}

/** The same JSON value re-serialized (whitespace, key order, \\u-escapes), sent with the signature of the original bytes. */
export const reserializedWebhookArb: fc.Arbitrary<WebhookCase> = fc
  .tuple(
    webhookPayloadArb,
    fc.constantFrom<string | number>(0, 1, 2, '\t', ' ', '\r\n'),
    fc.nat(7),
    fc.constantFrom('none', 'leading-space', 'trailing-newline', 'bom', 'escape-slash', 'ascii-escape'),
  )
  .map(([payload, indent, seed, extra]) => {
    const original = Buffer.from(JSON.stringify(payload), 'utf8');
    let text = JSON.stringify(reorderKeys(payload, seed), null, indent);
    if (extra === 'leading-space') text = ` ${text}`;
    if (extra === 'trailing-newline') text = `${text}\n`;
    if (extra === 'bom') text = `\ufeff${text}`;
    if (extra === 'escape-slash') text = text.replace(/"name"/, '"n\\u0061me"');
    if (extra === 'ascii-escape')
      text = text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return {
      label: `reserialized indent=${JSON.stringify(indent)} seed=${seed} ${extra}`,
      body: Buffer.from(text, 'utf8'),
      key: HOSTILE_APP.key,
      signature: hmacHex(HOSTILE_APP.secret, original),
    };
  });

// ---------------------------------------------------------------------------------------------------------------
// Bodies of the wrong kind, SIGNED CORRECTLY (so only the shape check stands between them and a handler)
// ---------------------------------------------------------------------------------------------------------------

const wrongShapeValueArb: fc.Arbitrary<unknown> = fc.oneof(
  // Not an object at all.
  fc.constantFrom(null, true, 0, 1.5, 'events', [], [{ time_ms: 1, events: [] }]),
  // events is not an array.
  fc.record({
    time_ms: fc.nat(),
    events: fc.oneof(
      fc.constant(null),
      fc.constant({}),
      fc.string(),
      fc.nat(),
      fc.constant({ 0: { name: 'channel_occupied', channel: 'a' }, length: 1 }),
    ),
  }),
  // time_ms missing or not a number.
  fc.record({ events: fc.array(webhookEventArb, { maxLength: 2 }) }),
  fc.record({
    time_ms: fc.oneof(fc.string(), fc.constant(null), fc.constant([1]), fc.constant({})),
    events: fc.array(webhookEventArb, { maxLength: 2 }),
  }),
  // Events that are not objects, have no name, a non-string name or an unknown name.
  fc.record({
    time_ms: fc.nat(),
    events: fc.array(fc.oneof(fc.constant(null), fc.nat(), fc.string(), fc.constant([])), {
      minLength: 1,
      maxLength: 3,
    }),
  }),
  fc.record({ time_ms: fc.nat(), events: fc.tuple(fc.record({ channel: channelNameArb })) }),
  fc.record({
    time_ms: fc.nat(),
    events: fc.tuple(
      fc.record({
        name: fc.oneof(fc.nat(), fc.constant(null), fc.constant(['channel_occupied']), fc.constant({})),
        channel: channelNameArb,
      }),
    ),
  }),
  fc.record({
    time_ms: fc.nat(),
    events: fc.tuple(
      fc.record({
        name: fc.oneof(
          nastyStringArb.filter((s) => !(KNOWN_EVENT_NAMES as readonly string[]).includes(s)),
          fc.constantFrom(
            'CHANNEL_OCCUPIED',
            'channel_occupied ',
            ' client_event',
            'member_added\u0000',
            '__proto__',
            'constructor',
            'toString',
            'hasOwnProperty',
          ),
        ),
        channel: channelNameArb,
      }),
    ),
  }),
  // Prototype-pollution attempts.
  fc.constant(
    JSON.parse(
      '{"time_ms":1,"events":[{"name":"channel_occupied","channel":"x","__proto__":{"polluted":true}}]}',
    ) as unknown,
  ),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true,"events":[]},"time_ms":1}') as unknown),
  fc.constant(JSON.parse('{"time_ms":1,"events":[],"constructor":{"prototype":{"polluted":true}}}') as unknown),
);

/** Non-JSON or wrong-shape bodies, correctly signed with the right key. */
export const signedGarbageArb: fc.Arbitrary<WebhookCase> = fc
  .oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ label: 'random bytes', body: Buffer.from(b) })),
    nastyStringArb.map((s) => ({ label: 'random string', body: Buffer.from(s, 'utf8') })),
    fc
      .constantFrom(
        '',
        ' ',
        'null',
        '{',
        '{"time_ms":1,"events":[',
        'time_ms=1&events=[]',
        '<xml/>',
        '{"time_ms":1,"events":[]}\u0000',
        '\u0000{"time_ms":1,"events":[]}',
        '{"time_ms":1,"events":[{"name":"channel_occupied","channel":"a"}]}garbage',
        '{"time_ms":1,"events":[{"name":"channel_occupied","channel":"a"}]} {"time_ms":2}',
        '{"time_ms":1,"time_ms":"x","events":[{"name":"channel_occupied","channel":"a"}]}',
        '{"time_ms":NaN,"events":[]}',
        '{"time_ms":Infinity,"events":[]}',
        '{"time_ms":1e999,"events":[{"name":"channel_occupied","channel":"a"}]}',
        "{'time_ms':1,'events':[]}",
      )
      .map((s) => ({ label: `literal ${JSON.stringify(s)}`, body: Buffer.from(s, 'utf8') })),
    wrongShapeValueArb.map((v) => ({
      label: 'wrong shape',
      body: Buffer.from(JSON.stringify(v) ?? 'undefined', 'utf8'),
    })),
    // Invalid UTF-8 inside an otherwise fine body.
    fc
      .constantFrom(
        Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0xc0, 0xaf]),
      )
      .map((b) => ({ label: 'invalid utf-8', body: b })),
    // Deep nesting inside a field the shape check might walk.
    fc.integer({ min: 1_000, max: 50_000 }).map((depth) => ({
      label: `nesting depth ${depth}`,
      body: Buffer.from(
        `{"time_ms":1,"events":[{"name":"client_event","channel":"a","data":${'['.repeat(depth)}${']'.repeat(depth)}}]}`,
      ),
    })),
  )
  .map(({ label, body }) => ({
    label: `signed garbage: ${label}`,
    body,
    key: HOSTILE_APP.key,
    signature: hmacHex(HOSTILE_APP.secret, body),
  }));

// ---------------------------------------------------------------------------------------------------------------
// Signature and key header variants
// ---------------------------------------------------------------------------------------------------------------

const hexArb = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: min, maxLength: max });

/**
 * Signature header variants built around the right value `good` (lower-case hex, what Pusher sends).
 *
 * Decision (stated in the report): upper-case or mixed-case hex of the right MAC, and the right value with
 * surrounding whitespace (which HTTP strips from header values anyway), MAY be accepted: they carry the exact MAC,
 * so accepting them gives a sender nothing it did not have. Everything that merely DECODES to the right MAC under a
 * lenient parser MUST be refused: trailing garbage (`Buffer.from(good + 'zz', 'hex')` is the same 32 bytes),
 * truncation, base64, a `sha256=` prefix, full-width digits, two values joined by a comma.
 */
export function signatureVariantArb(good: string): fc.Arbitrary<{ label: string; signature: HeaderValue }> {
  const b64 = Buffer.from(good, 'hex').toString('base64');
  return fc.oneof(
    fc
      .constantFrom<[string, HeaderValue]>(
        ['absent', undefined],
        ['null', null],
        ['empty', ''],
        ['upper-case hex of the right value', good.toUpperCase()],
        ['mixed-case hex of the right value', good.slice(0, 32).toUpperCase() + good.slice(32)],
        ['right value + "zz"', `${good}zz`],
        ['right value + "0"', `${good}0`],
        ['right value + "00"', `${good}00`],
        ['right value minus last char', good.slice(0, -1)],
        ['right value minus last byte', good.slice(0, -2)],
        ['first half of right value', good.slice(0, 32)],
        ['last char made non-hex', `${good.slice(0, -1)}g`],
        ['last byte made non-hex', `${good.slice(0, -2)}zz`],
        ['right value with leading space', ` ${good}`],
        ['right value with trailing space', `${good} `],
        ['right value with trailing newline', `${good}\n`],
        ['right value with NUL', `${good}\u0000`],
        ['sha256= prefix', `sha256=${good}`],
        ['base64 of the right MAC', b64],
        ['base64url of the right MAC', Buffer.from(good, 'hex').toString('base64url')],
        ['duplicated header joined by Node', `${good}, ${good}`],
        ['right value twice', good + good],
        ['array: right twice', [good, good]],
        ['array: wrong then right', ['0'.repeat(64), good]],
        ['array: right then wrong', [good, '0'.repeat(64)]],
        ['array: empty', []],
        ['array: right then empty', [good, '']],
        ['64 zeros', '0'.repeat(64)],
        ['fullwidth', good.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)))],
      )
      .map(([label, signature]) => ({ label, signature })),
    hexArb(0, 130).map((s) => ({ label: 'random hex', signature: s })),
    hexArb(64, 64).map((s) => ({ label: 'random 64-char hex', signature: s })),
    fc.string({ maxLength: 100 }).map((s) => ({ label: 'random string', signature: s })),
    nastyStringArb.map((s) => ({ label: 'nasty string', signature: s })),
    fc
      .array(fc.oneof(hexArb(64, 64), fc.string()), { minLength: 2, maxLength: 4 })
      .map((a) => ({ label: 'random array', signature: a })),
    fc.tuple(fc.nat(63), fc.constantFrom(...'0123456789abcdef')).map(([at, c]) => ({
      label: 'right value with one hex digit replaced',
      signature: good.slice(0, at) + c + good.slice(at + 1),
    })),
  );
}

/** Key header variants. Only the exact key (as a plain string) is right. */
export const keyVariantArb: fc.Arbitrary<{ label: string; key: HeaderValue }> = fc.oneof(
  fc
    .constantFrom<[string, HeaderValue]>(
      ['absent', undefined],
      ['null', null],
      ['empty', ''],
      ['upper-case', HOSTILE_APP.key.toUpperCase()],
      ['leading space', ` ${HOSTILE_APP.key}`],
      ['trailing space', `${HOSTILE_APP.key} `],
      ['trailing NUL', `${HOSTILE_APP.key}\u0000`],
      ['prefix', HOSTILE_APP.key.slice(0, -1)],
      ['the secret', HOSTILE_APP.secret],
      ['duplicated header joined by Node', `${HOSTILE_APP.key}, ${HOSTILE_APP.key}`],
      ['array: key twice', [HOSTILE_APP.key, HOSTILE_APP.key]],
      ['array: other then key', ['other-key', HOSTILE_APP.key]],
      ['array: key then other', [HOSTILE_APP.key, 'other-key']],
      ['array: empty', []],
    )
    .map(([label, key]) => ({ label, key })),
  fc
    .string({ maxLength: 40 })
    .filter((s) => s !== HOSTILE_APP.key)
    .map((key) => ({ label: 'random key', key })),
);

// ---------------------------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------------------------

/**
 * Is a header value the expected one? `'yes'` for the exact string; `'either'` for forms that carry the exact value
 * and the library may normalize (surrounding whitespace; any letter case when `caseInsensitive`, i.e. for hex; a
 * non-empty array whose every element is such a form); `'no'` otherwise.
 */
function headerIs(value: HeaderValue, expected: string, caseInsensitive: boolean): 'yes' | 'no' | 'either' {
  const one = (v: unknown): 'yes' | 'no' | 'either' => {
    if (typeof v !== 'string') return 'no';
    if (v === expected) return 'yes';
    const normalized = caseInsensitive ? v.trim().toLowerCase() : v.trim();
    return normalized === expected ? 'either' : 'no';
  };
  if (Array.isArray(value)) {
    return value.length > 0 && value.every((v) => one(v) !== 'no') ? 'either' : 'no';
  }
  return one(value);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Fields each documented event must carry besides `name`, and their JSON types. */
const REQUIRED_FIELDS: Record<string, Record<string, 'string' | 'number'>> = {
  channel_occupied: { channel: 'string' },
  channel_vacated: { channel: 'string' },
  cache_miss: { channel: 'string' },
  member_added: { channel: 'string', user_id: 'string' },
  member_removed: { channel: 'string', user_id: 'string' },
  client_event: { channel: 'string', event: 'string', data: 'string', socket_id: 'string' },
  subscription_count: { channel: 'string', subscription_count: 'number' },
};

/**
 * The payload shape, judged independently of the library:
 * - `'malformed'`: not an object, `time_ms` not a finite number, `events` not an array, an event that is not an object
 *   or whose `name` is not a string. The library MUST refuse these even when signed correctly.
 * - `'open'`: the contract leaves it to the library (no events, an unknown event name, a known event missing a field
 *   its type requires). It may refuse, or accept and drop what it does not understand.
 * - `'documented'`: exactly what Pusher sends. Signed correctly, the library MUST accept it.
 */
export function payloadShape(value: unknown): 'documented' | 'open' | 'malformed' {
  if (!isObject(value)) return 'malformed';
  if (typeof value.time_ms !== 'number' || !Number.isFinite(value.time_ms)) return 'malformed';
  if (!Array.isArray(value.events)) return 'malformed';
  // A bad event inside a sound envelope is left out of the payload (issue 15), not a reason to refuse the whole body:
  // either verdict is allowed, and whatever comes back must still pass isTypedPayload.
  if (!value.events.every((e: unknown) => isObject(e) && typeof e.name === 'string')) return 'open';
  if (value.events.length === 0) return 'open';
  const complete = (value.events as Record<string, unknown>[]).every((e) => {
    const required = Object.hasOwn(REQUIRED_FIELDS, e.name as string) ? REQUIRED_FIELDS[e.name as string] : undefined;
    return required !== undefined && Object.entries(required).every(([field, type]) => typeof e[field] === type);
  });
  return complete ? 'documented' : 'open';
}

/**
 * What a handler may rely on in a payload the library returned: `time_ms` a finite number, `events` an array of
 * objects with a string `name` and `channel`, and every event of a known name carrying the fields of its type.
 *
 * Unknown event names may pass through (the core lets them, on purpose: Pusher may add event types, and refusing a
 * signed webhook makes Pusher redeliver it forever); they reach no handler because handlers only exist for known
 * names (checked at bootstrap), which the route specs verify.
 */
export function isTypedPayload(value: unknown): boolean {
  if (
    !isObject(value) ||
    typeof value.time_ms !== 'number' ||
    !Number.isFinite(value.time_ms) ||
    !Array.isArray(value.events)
  ) {
    return false;
  }
  return (value.events as unknown[]).every((e) => {
    if (!isObject(e) || typeof e.name !== 'string' || typeof e.channel !== 'string') return false;
    const required = Object.hasOwn(REQUIRED_FIELDS, e.name) ? REQUIRED_FIELDS[e.name] : undefined;
    return required === undefined || Object.entries(required).every(([field, type]) => typeof e[field] === type);
  });
}

function parseStrict(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * What the library may do with a case:
 * - `'accept'`: exact signature of the exact bytes, right key, documented shape: it MUST return the payload;
 * - `'reject'`: a key or signature that is not exactly right, a body that is not JSON, or a malformed one: it MUST
 *   refuse (null / PusherWebhookError);
 * - `'either'`: right key and signature, but a body or header form the contract leaves open (a one-element header
 *   array, an `'open'` shape, invalid UTF-8). A returned payload must still pass {@link isTypedPayload}.
 */
export function webhookOracle(c: WebhookCase): 'accept' | 'reject' | 'either' {
  const keyOk = headerIs(c.key, HOSTILE_APP.key, false);
  const sigOk = headerIs(c.signature, hmacHex(HOSTILE_APP.secret, c.body), true);
  if (keyOk === 'no' || sigOk === 'no') return 'reject';
  const parsed = parseStrict(c.body);
  let shape: 'documented' | 'open' | 'malformed';
  if (parsed.ok) {
    shape = payloadShape(parsed.value);
  } else {
    // Invalid UTF-8 that still decodes leniently to JSON: the library may decode strictly or leniently.
    try {
      shape = payloadShape(JSON.parse(c.body.toString('utf8'))) === 'malformed' ? 'malformed' : 'open';
    } catch {
      shape = 'malformed';
    }
  }
  if (shape === 'malformed') return 'reject';
  if (shape === 'open' || keyOk === 'either' || sigOk === 'either') return 'either';
  return 'accept';
}
