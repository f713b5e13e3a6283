/**
 * Generators of hostile `socket_id` and `channel_name` values for the property-based security specs (issue 6).
 *
 * The rules (pusher-protocol.md, "Limits"): a socket id is `^\d+\.\d+$` with ASCII digits only, each number at most
 * 20 digits (the bound lib/core/validation.ts derives: any unsigned 64-bit integer) (JavaScript's `\d`
 * never matches other scripts' digits, and its `$` never matches before a trailing newline); a channel name is 1 to
 * 200 characters of `[A-Za-z0-9_\-=@,.;]`. Anything else must be refused before anything is signed: a colon in a
 * socket id would let a caller forge a presence signature (`1.1:presence-room:{"user_id":"admin"}` signed as a
 * private channel's socket id is the signed string of presence-room for user admin).
 */
import fc from 'fast-check';

export const SOCKET_ID_RULE = /^\d{1,20}\.\d{1,20}$/;
export const CHANNEL_NAME_RULE = /^[A-Za-z0-9_\-=@,.;]+$/;
export const MAX_CHANNEL_NAME_LENGTH = 200;

export const isValidSocketId = (s: unknown): s is string => typeof s === 'string' && SOCKET_ID_RULE.test(s);
export const isValidChannelName = (s: unknown): s is string =>
  typeof s === 'string' && s.length <= MAX_CHANNEL_NAME_LENGTH && CHANNEL_NAME_RULE.test(s);

/** Socket ids the way Pusher and soketi make them: two runs of ASCII digits. */
export const validSocketIdArb: fc.Arbitrary<string> = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }))
  .map(([a, b]) => `${a}.${b}`);

/** Decimal digits zero of other scripts; `\d` must not match any of them. */
const FOREIGN_ZEROS = [
  0x0660, // Arabic-Indic ٠
  0x06f0, // Extended Arabic-Indic ۰
  0x07c0, // NKo ߀
  0x0966, // Devanagari ०
  0x09e6, // Bengali ০
  0x0e50, // Thai ๐
  0xff10, // Fullwidth ０
  0x1d7ce, // Mathematical bold 𝟎 (astral: a surrogate pair)
];

/** The hand-picked injections of the brief and the protocol page. */
export const SOCKET_ID_INJECTIONS: readonly string[] = [
  '1.1:presence-room:{"user_id":"admin"}',
  '1.1:private-admin',
  '1.1::user::{"id":"admin"}',
  '1.1\n',
  '1.1\n:',
  '1.1\r\n',
  '\n1.1',
  '1.1:',
  ':1.1',
  '١.١',
  '１.１',
  '１２３４.５６７８',
  '۱.۱',
  '𝟏.𝟏',
  ' 1.1',
  '1.1 ',
  '\t1.1',
  '1.1\t',
  '1.1\u0000',
  '\u00001.1',
  '1.1\u2028',
  '\ufeff1.1',
  '1.1\u00a0',
  '1..1',
  '.1',
  '1.',
  '1',
  '.',
  '',
  '1.1.1',
  '+1.1',
  '-1.1',
  '1.-1',
  '1e3.1',
  '0x1.1',
  '1,1',
  '1.1#',
  '1.1/',
  'Infinity.1',
  'NaN.NaN',
  '1.1;',
  '1.1%3A',
  '1%2E1',
  '1.1 presence-room',
  '1'.repeat(100_000) + '.1:',
  '1'.repeat(50_000) + '.' + '2'.repeat(50_000) + '\n',
  ':' + '1'.repeat(100_000) + '.1',
];

const SUFFIXES = [
  ':',
  '\n',
  '\r\n',
  ' ',
  '\t',
  '\u0000',
  ':presence-room:{"user_id":"admin"}',
  '::user::{"id":"admin"}',
  '\u2028',
  '\u00a0',
  '\ufeff',
  '.1',
  'e5',
  '#',
  '%0A',
];

/** Replace some ASCII digits of a valid id by digits of another script. */
const foreignDigitsArb: fc.Arbitrary<string> = fc
  .tuple(validSocketIdArb, fc.constantFrom(...FOREIGN_ZEROS), fc.array(fc.boolean(), { minLength: 1, maxLength: 42 }))
  .map(([id, zero, which]) => {
    let replaced = false;
    const out = [...id]
      .map((ch, i) => {
        if (ch === '.' || !(which[i % which.length] ?? false)) return ch;
        replaced = true;
        return String.fromCodePoint(zero + Number(ch));
      })
      .join('');
    // At least one digit must be foreign.
    return replaced ? out : String.fromCodePoint(zero + Number(id[0])) + id.slice(1);
  });

/** Every value that is NOT a valid socket id, with the injections above weighted in. */
export const hostileSocketIdArb: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SOCKET_ID_INJECTIONS) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(validSocketIdArb, fc.constantFrom(...SUFFIXES), fc.boolean())
        .map(([id, s, before]) => (before ? s + id : id + s)),
    },
    { weight: 2, arbitrary: foreignDigitsArb },
    {
      weight: 2,
      arbitrary: fc.string({
        unit: fc.constantFrom('0', '1', '9', '.', ':', '\n', ' ', '١', '１', '-', 'e'),
        maxLength: 12,
      }),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
    // Well-shaped but too long: 21 to 60 digits on either side.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.stringMatching(/^[0-9]{21,60}$/), validSocketIdArb, fc.boolean())
        .map(([long, id, first]) => (first ? `${long}.${id.split('.')[1]}` : `${id.split('.')[0]}.${long}`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1_000, max: 50_000 }), fc.constantFrom(...SUFFIXES))
        .map(([n, s]) => `${'7'.repeat(n)}.${'3'.repeat(n)}${s}`),
    },
  )
  .filter((s) => !isValidSocketId(s));

/** Valid channel names that need authorization (not encrypted: those need a master key), for controls. */
export const authorizableChannelArb: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('private-', 'presence-'), fc.stringMatching(/^[A-Za-z0-9_\-=@,.;]{1,60}$/))
  .map(([p, rest]) => p + rest)
  .filter((c) => !c.startsWith('private-encrypted-'));

export const CHANNEL_INJECTIONS: readonly string[] = [
  'private-a:b',
  'private-a:',
  'presence-room:{"user_id":"admin"}',
  'private-room:presence-room',
  'private-a\n',
  'private-\nx',
  'private-a\r\n',
  'private-#x',
  'presence-#room',
  '#server-to-user-admin',
  'private-' + 'a'.repeat(193),
  'presence-' + 'a'.repeat(192),
  'private-' + 'b'.repeat(100_000),
  'private- x',
  'private-x ',
  ' private-x',
  'private-ä',
  'private-ａ',
  'private-a\u0000',
  'private-a\u2028',
  '',
  'private-a/b',
  'private-a?b',
  'private-a%3Ab',
  'private-a"b',
  "private-a'b",
  'private-a\\b',
  'private-{}',
  'private-a*',
  'private-a|b',
];

/** Every value that is NOT a valid channel name. */
export const hostileChannelArb: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...CHANNEL_INJECTIONS) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom('private-', 'presence-', 'private-encrypted-', ''),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
        )
        .map(([p, s]) => p + s),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom('private-', 'presence-'),
          fc.stringMatching(/^[a-z]{1,20}$/),
          fc.constantFrom(':', '\n', '#', ' ', '\u0000', '"', '/', '\u00e9'),
          fc.stringMatching(/^[a-z]{0,20}$/),
        )
        .map(([p, a, bad, b]) => p + a + bad + b),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('private-', 'presence-'), fc.integer({ min: 201, max: 20_000 }))
        .map(([p, n]) => p + 'x'.repeat(n - p.length)),
    },
  )
  .filter((s) => !isValidChannelName(s));
