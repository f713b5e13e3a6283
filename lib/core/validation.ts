import { PusherValidationError } from './pusher.errors.js';
import {
  CHANNEL_CHARSET_TEXT,
  ENCRYPTED_CHANNEL_PREFIX,
  MAX_BATCH_SIZE,
  MAX_CHANNEL_NAME_LENGTH,
  MAX_CHANNELS_PER_TRIGGER,
  MAX_EVENT_NAME_LENGTH,
  MAX_SOCKET_ID_DIGITS,
  MAX_SOCKET_ID_LENGTH,
  MAX_USER_ID_LENGTH,
  MAX_WATCHLIST_SIZE,
  PRESENCE_CHANNEL_PREFIX,
  PRIVATE_CHANNEL_PREFIX,
  RESERVED_EVENT_PREFIXES,
  SERVER_TO_USER_PREFIX,
  USER_ID_RULES,
  WATCHLIST_USER_ID_RULES,
  type PusherValidationRule,
  type UserIdRules,
} from './rules.js';
import { isProtocolQueryField } from './signing.js';

/**
 * The protocol's "Limits" table as checks. Each throws a {@link PusherValidationError} whose `rule` names the rule,
 * `value` the offending value (shortened) and `limit` the bound; callers run them before anything is sent.
 */

const CHANNEL_CHARSET = /^[A-Za-z0-9_\-=@,.;]+$/;
/** Full match only: `1.1:`, `:1.1` or `1.1\n:` would let a caller smuggle a colon into a signed string. */
const SOCKET_ID = new RegExp(`^\\d{1,${MAX_SOCKET_ID_DIGITS}}\\.\\d{1,${MAX_SOCKET_ID_DIGITS}}$`);

export const TRIGGER_INFO_ATTRIBUTES: readonly string[] = ['user_count', 'subscription_count'];
export const CHANNEL_INFO_ATTRIBUTES: readonly string[] = ['user_count', 'subscription_count', 'cache'];
export const CHANNELS_INFO_ATTRIBUTES: readonly string[] = ['user_count'];

/**
 * Length in characters (Unicode code points; a lone surrogate counts as one), the unit of every name limit here.
 * Strings of at most `limit` UTF-16 units cannot hold more characters, so the common case costs one comparison.
 */
export function characterLength(text: string, limit: number): number {
  if (text.length <= limit) return text.length;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** Shows a caller's value in a message without flooding it (names can be long, data can be huge). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? value.slice(0, 60) + '…' : value;
    return JSON.stringify(shown) + (value.length > 60 ? ` (${characterLength(value, 0)} characters)` : '');
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function fail(message: string, rule: PusherValidationRule, value?: unknown, limit?: number | string): never {
  throw new PusherValidationError({ message, rule, value, limit });
}

export function isEncryptedChannel(channel: string): boolean {
  return channel.startsWith(ENCRYPTED_CHANNEL_PREFIX);
}

export function isPresenceChannel(channel: string): boolean {
  return channel.startsWith(PRESENCE_CHANNEL_PREFIX);
}

/** Channel name: non-empty, ≤ 200 characters of `[A-Za-z0-9_\-=@,.;]`; `#` only as the `#server-to-user-` prefix. */
export function validateChannelName(channel: unknown): asserts channel is string {
  if (typeof channel !== 'string' || channel.length === 0) {
    fail(`Channel name must be a non-empty string, got ${describeValue(channel)}.`, 'channel-name-required', channel);
  }
  const channelLength = characterLength(channel, MAX_CHANNEL_NAME_LENGTH);
  if (channelLength > MAX_CHANNEL_NAME_LENGTH) {
    fail(
      `Channel name ${describeValue(channel)} is ${channelLength} characters long; the limit is ${MAX_CHANNEL_NAME_LENGTH}. Use a shorter name.`,
      'channel-name-length',
      channel,
      MAX_CHANNEL_NAME_LENGTH,
    );
  }
  const rest = channel.startsWith(SERVER_TO_USER_PREFIX) ? channel.slice(SERVER_TO_USER_PREFIX.length) : channel;
  if (!CHANNEL_CHARSET.test(rest)) {
    if (rest.includes('#')) {
      fail(
        `Channel name ${describeValue(channel)} contains "#", which is only allowed as the "${SERVER_TO_USER_PREFIX}" prefix (use sendToUser for those).`,
        'channel-name-hash',
        channel,
        SERVER_TO_USER_PREFIX,
      );
    }
    fail(
      `Channel name ${describeValue(channel)} contains a character outside ${CHANNEL_CHARSET_TEXT}; rename the channel.`,
      'channel-name-charset',
      channel,
      CHANNEL_CHARSET_TEXT,
    );
  }
}

/** Channels of one trigger: 1 to 100 valid names; an encrypted channel must be the only one. */
export function validateTriggerChannels(channels: readonly unknown[]): asserts channels is readonly string[] {
  if (channels.length > MAX_CHANNELS_PER_TRIGGER) {
    fail(
      `A trigger may name at most ${MAX_CHANNELS_PER_TRIGGER} channels; got ${channels.length}. Split it into several triggers, or call triggerInChunks.`,
      'channels-count',
      channels.length,
      MAX_CHANNELS_PER_TRIGGER,
    );
  }
  validateChannelList(channels);
}

/**
 * Channels of {@link validateTriggerChannels} without the count limit, for a trigger sent in chunks of
 * {@link MAX_CHANNELS_PER_TRIGGER}: each name valid, no name twice (chunks are separate requests, so a repeated name
 * could land in two of them and be delivered twice), no encrypted channel unless it is the only one.
 */
export function validateChunkedTriggerChannels(channels: readonly unknown[]): asserts channels is readonly string[] {
  validateChannelList(channels);
  if (channels.length > 1) {
    const seen = new Set<string>();
    for (const channel of channels as readonly string[]) {
      if (seen.has(channel)) {
        fail(
          `Channel ${describeValue(channel)} is listed twice; remove duplicates so that each channel gets the event once.`,
          'channels-duplicate',
          channel,
        );
      }
      seen.add(channel);
    }
  }
}

function validateChannelList(channels: readonly unknown[]): asserts channels is readonly string[] {
  if (channels.length === 0) {
    fail('A trigger needs at least one channel; got an empty list.', 'channels-required', channels, 1);
  }
  for (const channel of channels) validateChannelName(channel);
  if (channels.length > 1) {
    for (const channel of channels as readonly string[]) {
      if (isEncryptedChannel(channel)) {
        // Each encrypted channel has its own key, so one ciphertext cannot serve several channels.
        fail(
          `Encrypted channel ${describeValue(channel)} must be the only channel of its trigger (got ${channels.length} channels); trigger it separately.`,
          'encrypted-channel-alone',
          channel,
          1,
        );
      }
    }
  }
}

/** Batch trigger: 1 to 10 items (any number above 0 when `chunked`: sent as batches of 10). */
export function validateBatchSize(size: number, chunked = false): void {
  if (size === 0) fail('triggerBatch needs at least one event; got an empty list.', 'batch-required', size, 1);
  if (size > MAX_BATCH_SIZE && !chunked) {
    fail(
      `A batch may hold at most ${MAX_BATCH_SIZE} events; got ${size}. Split it into several triggerBatch calls, or call triggerBatchInChunks.`,
      'batch-size',
      size,
      MAX_BATCH_SIZE,
    );
  }
}

/** Event name: non-empty, ≤ 200 characters, outside the service's reserved `pusher:` / `pusher_internal:` namespace. */
export function validateEventName(event: unknown): asserts event is string {
  if (typeof event !== 'string' || event.length === 0) {
    fail(`Event name must be a non-empty string, got ${describeValue(event)}.`, 'event-name-required', event);
  }
  const eventLength = characterLength(event, MAX_EVENT_NAME_LENGTH);
  if (eventLength > MAX_EVENT_NAME_LENGTH) {
    fail(
      `Event name ${describeValue(event)} is ${eventLength} characters long; the limit is ${MAX_EVENT_NAME_LENGTH}. Use a shorter name.`,
      'event-name-length',
      event,
      MAX_EVENT_NAME_LENGTH,
    );
  }
  for (const prefix of RESERVED_EVENT_PREFIXES) {
    if (event.startsWith(prefix)) {
      fail(
        `Event name ${describeValue(event)} is in the "${prefix}" namespace, which the Pusher service reserves; choose another name.`,
        'event-name-reserved',
        event,
        prefix,
      );
    }
  }
}

/**
 * Serializes event data the way it goes on the wire: strings as they are, anything else JSON-encoded.
 * @throws PusherValidationError (`data-serializable`) for values JSON cannot encode (undefined, functions, BigInt, cycles).
 */
export function serializeData(data: unknown): string {
  if (typeof data === 'string') return data;
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    fail(
      `Event data cannot be JSON-encoded (${(error as Error).message}); pass a string or a JSON-serializable value.`,
      'data-serializable',
      describeValue(data),
    );
  }
  if (json === undefined) {
    fail(
      `Event data ${describeValue(data)} has no JSON encoding; pass a string or a JSON-serializable value.`,
      'data-serializable',
      describeValue(data),
    );
  }
  return json;
}

/** `data` as sent (after JSON encoding and encryption) must fit `maxPayloadBytes` UTF-8 bytes. */
export function validatePayloadSize(data: string, maxPayloadBytes: number): void {
  // A UTF-16 unit encodes to at most 3 UTF-8 bytes, so short strings need no byte count.
  if (data.length * 3 <= maxPayloadBytes) return;
  const bytes = Buffer.byteLength(data, 'utf8');
  if (bytes > maxPayloadBytes) {
    fail(
      `Event data is ${bytes} bytes; the limit is ${maxPayloadBytes} bytes. Send less (e.g. an id to fetch) or raise maxPayloadBytes if your cluster or server allows more.`,
      'payload-size',
      bytes,
      maxPayloadBytes,
    );
  }
}

/** socket_id: digits, a dot, digits; nothing else; at most {@link MAX_SOCKET_ID_LENGTH} characters. */
export function validateSocketId(socketId: unknown): asserts socketId is string {
  const socketIdLength = typeof socketId === 'string' ? characterLength(socketId, MAX_SOCKET_ID_LENGTH) : 0;
  if (socketIdLength > MAX_SOCKET_ID_LENGTH) {
    fail(
      `Socket id ${describeValue(socketId)} is ${socketIdLength} characters long; a socket id is two numbers of at most ${MAX_SOCKET_ID_DIGITS} digits joined by a dot (at most ${MAX_SOCKET_ID_LENGTH} characters). Pass the socket_id pusher-js sent.`,
      'socket-id-length',
      socketId,
      MAX_SOCKET_ID_LENGTH,
    );
  }
  if (typeof socketId !== 'string' || !SOCKET_ID.test(socketId)) {
    fail(
      `Socket id ${describeValue(socketId)} is not of the form "1234.5678" (digits, a dot, digits, at most ${MAX_SOCKET_ID_DIGITS} digits each); pass the socket_id pusher-js sent.`,
      'socket-id',
      socketId,
      SOCKET_ID.source,
    );
  }
}

/** User id: non-empty string, channel character set, ≤ 128 characters. */
export function validateUserId(userId: unknown, rules: UserIdRules = USER_ID_RULES): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) {
    fail(`User id must be a non-empty string, got ${describeValue(userId)}.`, rules.required, userId);
  }
  const userIdLength = characterLength(userId, MAX_USER_ID_LENGTH);
  if (userIdLength > MAX_USER_ID_LENGTH) {
    fail(
      `User id ${describeValue(userId)} is ${userIdLength} characters long; the limit is ${MAX_USER_ID_LENGTH}.`,
      rules.length,
      userId,
      MAX_USER_ID_LENGTH,
    );
  }
  if (!CHANNEL_CHARSET.test(userId)) {
    fail(
      `User id ${describeValue(userId)} contains a character outside ${CHANNEL_CHARSET_TEXT} (user ids become part of channel names).`,
      rules.charset,
      userId,
      CHANNEL_CHARSET_TEXT,
    );
  }
}

/**
 * Presence member data: an object with a `user_id` (a non-empty string of at most 128 characters, any characters: a
 * presence id never becomes part of a channel name; a finite number is tolerated as the docs' example uses one) and
 * an optional object `user_info`.
 */
export function validatePresenceData(presenceData: unknown): void {
  if (presenceData === null || typeof presenceData !== 'object' || Array.isArray(presenceData)) {
    fail(
      `Presence data must be an object { user_id, user_info? }, got ${describeValue(presenceData)}.`,
      'presence-data-required',
      describeValue(presenceData),
    );
  }
  const { user_id: given, user_info: userInfo } = presenceData as { user_id?: unknown; user_info?: unknown };
  const userId = typeof given === 'number' && Number.isFinite(given) ? String(given) : given;
  if (typeof userId !== 'string' || userId.length === 0) {
    fail(
      `Presence user_id must be a non-empty string, got ${describeValue(userId)}.`,
      'presence-user-id-required',
      userId,
    );
  }
  const userIdLength = characterLength(userId, MAX_USER_ID_LENGTH);
  if (userIdLength > MAX_USER_ID_LENGTH) {
    fail(
      `Presence user_id ${describeValue(userId)} is ${userIdLength} characters long; the limit is ${MAX_USER_ID_LENGTH}.`,
      'presence-user-id-length',
      userId,
      MAX_USER_ID_LENGTH,
    );
  }
  if (userInfo !== undefined && (userInfo === null || typeof userInfo !== 'object' || Array.isArray(userInfo))) {
    fail(
      `Presence user_info must be an object when given, got ${describeValue(userInfo)}.`,
      'presence-user-info',
      describeValue(userInfo),
    );
  }
}

/** The serialized member data (`channel_data`) against the presence user-object limit. */
export function validatePresenceDataSize(channelData: string, maxBytes: number): void {
  const size = Buffer.byteLength(channelData, 'utf8');
  if (size > maxBytes) {
    fail(
      `Presence member data is ${size} bytes as JSON; the limit is ${maxBytes} (maxPresenceDataBytes). Keep user_info small: a name and an avatar URL, not a profile.`,
      'presence-data-size',
      size,
      maxBytes,
    );
  }
}

/** User data for sign-in: an object with a valid string `id`, optional object `user_info`, optional `watchlist` of ≤ 100 user ids. */
export function validateUserData(userData: unknown): void {
  if (userData === null || typeof userData !== 'object' || Array.isArray(userData)) {
    fail(
      `User data must be an object { id, user_info?, watchlist? }, got ${describeValue(userData)}.`,
      'user-data-required',
      describeValue(userData),
    );
  }
  const { id, user_info: userInfo, watchlist } = userData as { id?: unknown; user_info?: unknown; watchlist?: unknown };
  validateUserId(id);
  if (userInfo !== undefined && (userInfo === null || typeof userInfo !== 'object' || Array.isArray(userInfo))) {
    fail(
      `user_info must be an object when given, got ${describeValue(userInfo)}.`,
      'user-info',
      describeValue(userInfo),
    );
  }
  if (watchlist !== undefined) {
    if (!Array.isArray(watchlist)) {
      fail(
        `watchlist must be an array of user ids, got ${describeValue(watchlist)}.`,
        'watchlist-type',
        describeValue(watchlist),
      );
    }
    if (watchlist.length > MAX_WATCHLIST_SIZE) {
      fail(
        `watchlist holds ${watchlist.length} user ids; the limit is ${MAX_WATCHLIST_SIZE}. Trim it.`,
        'watchlist-size',
        watchlist.length,
        MAX_WATCHLIST_SIZE,
      );
    }
    for (const watched of watchlist) validateUserId(watched, WATCHLIST_USER_ID_RULES);
  }
}

/** `info` attributes: an array drawn from `allowed`. */
export function validateInfoAttributes(
  attributes: unknown,
  allowed: readonly string[],
): asserts attributes is readonly string[] {
  if (!Array.isArray(attributes)) {
    fail(
      `info/attributes must be an array such as ["${allowed[0]}"], got ${describeValue(attributes)}.`,
      'info-attribute',
      describeValue(attributes),
      allowed.join(','),
    );
  }
  for (const attribute of attributes) {
    if (typeof attribute !== 'string' || !allowed.includes(attribute)) {
      fail(
        `Attribute ${describeValue(attribute)} is not one of ${allowed.join(', ')}.`,
        'info-attribute',
        attribute,
        allowed.join(','),
      );
    }
  }
}

/** GET /channels: `user_count` only together with a `presence-` prefix filter (the API answers 400 otherwise). */
export function validateChannelsInfoQuery(prefixFilter: unknown, attributes: unknown): void {
  if (prefixFilter !== undefined) {
    if (typeof prefixFilter !== 'string' || (prefixFilter.length > 0 && !CHANNEL_CHARSET.test(prefixFilter))) {
      fail(
        `prefixFilter ${describeValue(prefixFilter)} must be a string of channel-name characters (${CHANNEL_CHARSET_TEXT}).`,
        'prefix-filter',
        prefixFilter,
        CHANNEL_CHARSET_TEXT,
      );
    }
  }
  if (attributes === undefined) return;
  validateInfoAttributes(attributes, CHANNELS_INFO_ATTRIBUTES);
  if (attributes.includes('user_count') && !(typeof prefixFilter === 'string' && isPresenceChannel(prefixFilter))) {
    fail(
      `The user_count attribute needs a prefixFilter starting with "presence-" (got ${describeValue(prefixFilter)}); add one or drop user_count.`,
      'info-user-count-presence',
      prefixFilter,
      PRESENCE_CHANNEL_PREFIX,
    );
  }
}

/** GET /channels/{channel}: `user_count` exists for presence channels only. */
export function validateChannelInfoQuery(channel: string, attributes: unknown): void {
  if (attributes === undefined) return;
  validateInfoAttributes(attributes, CHANNEL_INFO_ATTRIBUTES);
  if (attributes.includes('user_count') && !isPresenceChannel(channel)) {
    fail(
      `The user_count attribute exists for presence channels only; ${describeValue(channel)} is not one. Drop user_count or ask subscription_count.`,
      'info-user-count-presence',
      channel,
      PRESENCE_CHANNEL_PREFIX,
    );
  }
}

/** GET /channels/{channel}/users lists presence members, so the channel must be a presence channel. */
export function validatePresenceChannel(channel: string): void {
  if (!isPresenceChannel(channel)) {
    fail(
      `Channel ${describeValue(channel)} is not a presence channel (its name must start with "presence-").`,
      'presence-channel-required',
      channel,
      PRESENCE_CHANNEL_PREFIX,
    );
  }
}

/** Channel authorization only exists for `private-` and `presence-` channels; public channels need none. */
export function validateAuthorizableChannel(channel: string): void {
  if (!channel.startsWith(PRIVATE_CHANNEL_PREFIX) && !isPresenceChannel(channel)) {
    fail(
      `Channel ${describeValue(channel)} needs no authorization: only "private-" and "presence-" channels are authorized.`,
      'auth-channel-type',
      channel,
      `${PRIVATE_CHANNEL_PREFIX}|${PRESENCE_CHANNEL_PREFIX}`,
    );
  }
}

/** Escape-hatch paths are relative to /apps/{appId}: they start with "/" and carry no query or fragment. */
export function validateApiPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path) || path.includes('..')) {
    fail(
      `API path ${describeValue(path)} must start with "/" and be relative to /apps/{appId} (e.g. "/channels"), without query string; pass query parameters as params.`,
      'api-path',
      path,
    );
  }
}

/** Query params: plain string values, no protocol field (`auth_*`, `body_md5`). */
export function validateQueryParams(params: unknown): asserts params is Record<string, string> | undefined {
  if (params === undefined) return;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    fail(`params must be an object of strings, got ${describeValue(params)}.`, 'query-params', describeValue(params));
  }
  for (const [name, value] of Object.entries(params)) {
    if (isProtocolQueryField(name)) {
      fail(
        `Query parameter "${name}" is computed by the request signature and cannot be set by the caller; remove it from params.`,
        'query-param-reserved',
        name,
      );
    }
    if (typeof value !== 'string') {
      fail(`Query parameter "${name}" must be a string, got ${describeValue(value)}.`, 'query-params', name);
    }
  }
}

/** Path segment encoding that keeps the channel characters `= @ , ;` (valid in a path) readable and signs the path as sent. */
export function encodePathSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%(?:3D|40|2C|3B)/g, decodeURIComponent);
}
