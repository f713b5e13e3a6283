/**
 * The protocol's limits and the catalogue of validation rules: the one owner of every limit, every rule id and its
 * description. Validators (`validation.ts`, `auth.ts`, `signing.ts`, `encryption.ts`, `pusher.ts`) throw with these
 * ids, the Nest auth controller switches on them, and the rules table of `docs/errors.md` is generated from
 * {@link VALIDATION_RULES} (`npm run docs:rules` rewrites it; `test/unit/repo/docs-rules.spec.ts` fails when they differ).
 */

/*
 * Name lengths are counted in characters, as Pusher's documentation states them ("≤ 200 characters"): Unicode code
 * points, so that an emoji is one character, not the two UTF-16 units JavaScript's `length` counts.
 */

/** Every official library and soketi allow 200 characters (Pusher's docs say 164). */
export const MAX_CHANNEL_NAME_LENGTH = 200;
export const MAX_CHANNELS_PER_TRIGGER = 100;
export const MAX_BATCH_SIZE = 10;
/** Characters (code points), as Pusher's HTTP API reference counts them. */
export const MAX_EVENT_NAME_LENGTH = 200;
/** Pusher's shared clusters; dedicated clusters and soketi allow more (`maxPayloadBytes`). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 10240;
export const MAX_USER_ID_LENGTH = 128;
/** Pusher documents a presence user object of at most 1 KB; self-hosted servers set their own (`maxPresenceDataBytes`). */
export const DEFAULT_MAX_PRESENCE_DATA_BYTES = 1024;
export const MAX_WATCHLIST_SIZE = 100;
/**
 * The protocol bounds neither number of a socket id, so the bound is derived: each is an unsigned integer, and 20
 * digits hold any unsigned 64-bit one (18446744073709551615). Servers issue far less (soketi: two random integers up
 * to 10^10, 11 digits each; Pusher's docs show "1234.1234"). Two 20-digit numbers and the dot: 41 characters, so a
 * 60 KB "socket id" is refused before it is signed or sent.
 */
export const MAX_SOCKET_ID_DIGITS = 20;
export const MAX_SOCKET_ID_LENGTH = 2 * MAX_SOCKET_ID_DIGITS + 1;

export const SERVER_TO_USER_PREFIX = '#server-to-user-';
export const ENCRYPTED_CHANNEL_PREFIX = 'private-encrypted-';
export const PRESENCE_CHANNEL_PREFIX = 'presence-';
export const PRIVATE_CHANNEL_PREFIX = 'private-';
export const RESERVED_EVENT_PREFIXES: readonly string[] = ['pusher:', 'pusher_internal:'];
/** The characters of a channel name (and of a user id, which becomes part of one), as a reader sees them. */
export const CHANNEL_CHARSET_TEXT = 'A-Z a-z 0-9 _ - = @ , . ;';

/** One rule: when it refuses, and the bound it enforces where there is one (as documented). */
export interface ValidationRuleEntry {
  /** Markdown; the `when` column of the docs table. */
  readonly when: string;
  /** The bound: a number, or the option that sets it. */
  readonly limit?: number | string;
}

const code = (text: string): string => '`' + text + '`';
const USER_ID = (where: string) =>
  ({
    required: { when: `${where} is not a non-empty string` },
    length: { when: `${where} is longer than ${MAX_USER_ID_LENGTH} characters`, limit: MAX_USER_ID_LENGTH },
    charset: {
      when: `${where} has a character outside ${code(CHANNEL_CHARSET_TEXT)} (user ids become part of channel names)`,
    },
  }) as const;
const userId = USER_ID('a user id (`sendToUser`, `terminateUserConnections`, `authenticateUser`)');
const watchedId = USER_ID('an id in `watchlist`');

/** Every rule a {@link PusherValidationError} can name, in the order of the docs table. */
export const VALIDATION_RULES = {
  'channels-required': { when: 'no channel, an empty list, or `channels` is not a string or array', limit: 1 },
  'channels-count': {
    when: `more than ${MAX_CHANNELS_PER_TRIGGER} channels in one trigger`,
    limit: MAX_CHANNELS_PER_TRIGGER,
  },
  'channels-duplicate': { when: '`triggerInChunks` got the same channel twice' },
  'channel-name-required': { when: 'a channel name is not a non-empty string' },
  'channel-name-length': {
    when: `a channel name is longer than ${MAX_CHANNEL_NAME_LENGTH} characters`,
    limit: MAX_CHANNEL_NAME_LENGTH,
  },
  'channel-name-charset': { when: `a character outside ${code(CHANNEL_CHARSET_TEXT)}` },
  'channel-name-hash': {
    when: `${code('#')} anywhere other than the ${code(SERVER_TO_USER_PREFIX)} prefix (use ${code('sendToUser')})`,
  },
  'encrypted-channel-alone': {
    when: `a ${code(ENCRYPTED_CHANNEL_PREFIX)} channel together with other channels`,
    limit: 1,
  },
  'encryption-master-key-required': { when: 'an encrypted channel, but no `encryptionMasterKeyBase64`' },
  'event-name-required': { when: 'the event name is not a non-empty string' },
  'event-name-length': {
    when: `the event name is longer than ${MAX_EVENT_NAME_LENGTH} characters`,
    limit: MAX_EVENT_NAME_LENGTH,
  },
  'event-name-reserved': {
    when: `the event name starts with ${RESERVED_EVENT_PREFIXES.map(code).join(' or ')}`,
  },
  'data-serializable': { when: 'data has no JSON encoding (`undefined`, a function, a `BigInt`, a cycle)' },
  'payload-size': { when: 'encoded (and encrypted) data is larger than `maxPayloadBytes`', limit: 'maxPayloadBytes' },
  'trigger-options': {
    when:
      'options are not an object, or have a key other than `socketId` / `info`; or a `triggerBatch` item has a field ' +
      'other than `channel`, `name`, `data`, `socketId`, `info`',
  },
  'batch-required': { when: '`triggerBatch` got a non-array or an empty array', limit: 1 },
  'batch-size': { when: `more than ${MAX_BATCH_SIZE} events in one \`triggerBatch\``, limit: MAX_BATCH_SIZE },
  'batch-event': { when: 'a batch item is not an object' },
  'socket-id': { when: `a socket id is not ${code('digits.digits')} (at most ${MAX_SOCKET_ID_DIGITS} digits each)` },
  'socket-id-length': {
    when: `a socket id is longer than ${MAX_SOCKET_ID_LENGTH} characters (see [limits](limits.md))`,
    limit: MAX_SOCKET_ID_LENGTH,
  },
  'info-attribute': { when: 'an `info` / `attributes` entry that is not allowed for this call' },
  'info-user-count-presence': {
    when: `${code('user_count')} without a ${code(PRESENCE_CHANNEL_PREFIX)} prefix filter or channel`,
  },
  'prefix-filter': { when: '`prefixFilter` has characters outside the channel-name set' },
  'presence-channel-required': { when: '`usersInfo` on a channel that is not a presence channel' },
  'auth-channel-type': {
    when: `${code('authorizeChannel')} on a public channel (only ${code(PRIVATE_CHANNEL_PREFIX)} and ${code(PRESENCE_CHANNEL_PREFIX)} channels are authorized)`,
  },
  'presence-data-required': { when: 'a presence channel without member data, or member data that is not an object' },
  'presence-user-id-required': { when: 'member `user_id` is missing or empty' },
  'presence-user-id-length': {
    when: `member ${code('user_id')} is longer than ${MAX_USER_ID_LENGTH} characters (any characters are fine)`,
    limit: MAX_USER_ID_LENGTH,
  },
  'presence-data-size': {
    when: `member data as JSON is over ${code('maxPresenceDataBytes')} (default ${DEFAULT_MAX_PRESENCE_DATA_BYTES})`,
    limit: 'maxPresenceDataBytes',
  },
  'presence-user-info': { when: 'member `user_info` is not an object' },
  'user-id-required': userId.required,
  'user-id-length': userId.length,
  'user-id-charset': userId.charset,
  'user-data-required': { when: '`authenticateUser` data is not an object' },
  'user-info': { when: '`authenticateUser` data has a `user_info` that is not an object' },
  'watchlist-type': { when: '`watchlist` is not an array' },
  'watchlist-size': { when: `\`watchlist\` has more than ${MAX_WATCHLIST_SIZE} ids`, limit: MAX_WATCHLIST_SIZE },
  'watchlist-user-id-required': watchedId.required,
  'watchlist-user-id-length': watchedId.length,
  'watchlist-user-id-charset': watchedId.charset,
  'api-path': { when: 'a `get` / `post` path does not start with `/`, or has `?`, `#`, whitespace or `..`' },
  'query-params': { when: '`params` is not an object of strings' },
  'query-param-reserved': { when: '`params` sets `auth_*` or `body_md5`' },
  'query-param-duplicate': { when: 'two `params` keys differ only in letter case' },
  'encrypted-payload': {
    when:
      'encrypted data (a `client_event` webhook on a `private-encrypted-` channel) has no base64 `nonce` and ' +
      "`ciphertext`, or fails authentication with this channel's key",
  },
} as const satisfies Record<string, ValidationRuleEntry>;

/** The id of a rule in {@link VALIDATION_RULES}: what `PusherValidationError.rule` holds. */
export type PusherValidationRule = keyof typeof VALIDATION_RULES;

/** The rules about user ids: the same checks for a signed-in user's `id` and for each id in its `watchlist`. */
export type UserIdRules = {
  readonly required: PusherValidationRule;
  readonly length: PusherValidationRule;
  readonly charset: PusherValidationRule;
};
export const USER_ID_RULES: UserIdRules = {
  required: 'user-id-required',
  length: 'user-id-length',
  charset: 'user-id-charset',
};
export const WATCHLIST_USER_ID_RULES: UserIdRules = {
  required: 'watchlist-user-id-required',
  length: 'watchlist-user-id-length',
  charset: 'watchlist-user-id-charset',
};
