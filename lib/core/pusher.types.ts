/** Attributes a trigger may ask the service to return per channel (`info` on POST /events). */
export type TriggerInfoAttribute = 'user_count' | 'subscription_count';

/** Attributes of one channel as the HTTP API reports them. */
export interface ChannelAttributes {
  user_count?: number;
  subscription_count?: number;
  [attribute: string]: unknown;
}

/** Options of {@link Pusher.trigger}. */
export interface TriggerOptions {
  /** Exclude this connection (the sender's own `socket_id`) from receiving the event. */
  socketId?: string;
  /** Ask for channel attributes in the response. */
  info?: readonly TriggerInfoAttribute[];
}

/** Parsed answer to a trigger: `{}` normally, `channels` when `info` was asked for. */
export interface TriggerResult {
  channels?: Record<string, ChannelAttributes>;
  [field: string]: unknown;
}

/** One item of {@link Pusher.triggerBatch}: exactly one channel per item. */
export interface BatchEvent {
  channel: string;
  name: string;
  data: unknown;
  socketId?: string;
  info?: readonly TriggerInfoAttribute[];
}

/** Parsed answer to a batch trigger: `batch` (request order) when any item asked for `info`. */
export interface TriggerBatchResult {
  batch?: ChannelAttributes[];
  [field: string]: unknown;
}

/**
 * One request of a call sent in chunks ({@link Pusher.triggerInChunks}, {@link Pusher.triggerBatchInChunks}): it
 * carried items `start` to `end - 1` of the caller's list (channels, or batch events).
 */
export interface TriggerChunk {
  /** 0-based, in the order of the caller's list. */
  index: number;
  start: number;
  /** Exclusive. */
  end: number;
}

/** A chunk the server accepted, with its answer. */
export interface TriggerChunkResult<R> extends TriggerChunk {
  result: R;
}

/** A chunk that was not accepted (nothing is known to have been delivered for it), with the reason. */
export interface TriggerChunkFailure extends TriggerChunk {
  error: unknown;
}

/** Options of {@link Pusher.channelsInfo} (GET /channels). */
export interface ChannelsInfoOptions {
  /** Only channels whose name starts with this prefix. */
  prefixFilter?: string;
  /** `user_count` is only allowed together with a `presence-` prefix filter. */
  attributes?: readonly 'user_count'[];
}

export interface ChannelsInfoResult {
  channels: Record<string, ChannelAttributes>;
}

/** Attributes {@link Pusher.channelInfo} may ask for. */
export type ChannelInfoAttribute = 'user_count' | 'subscription_count' | 'cache';

export interface ChannelInfoResult {
  occupied: boolean;
  user_count?: number;
  subscription_count?: number;
  cache?: { data: string; ttl: number };
  [attribute: string]: unknown;
}

export interface UsersInfoResult {
  users: Array<{ id: string }>;
}

/** Member data for a presence channel: who the subscriber is. */
export interface PresenceData {
  user_id: string;
  user_info?: Record<string, unknown>;
}

/** What pusher-js expects back from its channel-authorization endpoint. */
export interface ChannelAuthResponse {
  auth: string;
  /** The exact JSON string that was signed (presence channels only). */
  channel_data?: string;
  /** Base64 per-channel key (`private-encrypted-` channels only). */
  shared_secret?: string;
}

/** The signed-in user, for {@link Pusher.authenticateUser}. */
export interface UserData {
  id: string;
  user_info?: Record<string, unknown>;
  /** Up to 100 user ids whose online status this user may watch. */
  watchlist?: string[];
  [field: string]: unknown;
}

/** What pusher-js expects back from its user-authentication endpoint. */
export interface UserAuthResponse {
  auth: string;
  /** The exact JSON string that was signed. */
  user_data: string;
}

/** An incoming webhook request, as your HTTP framework hands it over. */
export interface WebhookRequest {
  /** The `X-Pusher-Key` header. */
  key: string | string[] | undefined | null;
  /** The `X-Pusher-Signature` header. */
  signature: string | string[] | undefined | null;
  /** The raw body bytes exactly as received (never a re-serialized object). */
  body: string | Buffer | Uint8Array;
}

export interface ChannelOccupiedEvent {
  name: 'channel_occupied';
  channel: string;
}
export interface ChannelVacatedEvent {
  name: 'channel_vacated';
  channel: string;
}
export interface MemberAddedEvent {
  name: 'member_added';
  channel: string;
  user_id: string;
}
export interface MemberRemovedEvent {
  name: 'member_removed';
  channel: string;
  user_id: string;
}
export interface ClientEventWebhookEvent {
  name: 'client_event';
  channel: string;
  /** The client event's name (`client-...`). */
  event: string;
  /** The event data as a string; decrypted plaintext JSON for `private-encrypted-` channels. */
  data: string;
  socket_id: string;
  /** Present on presence channels. */
  user_id?: string;
}
export interface CacheMissEvent {
  name: 'cache_miss';
  channel: string;
}
export interface SubscriptionCountEvent {
  name: 'subscription_count';
  channel: string;
  subscription_count: number;
}

/** Every webhook event Pusher sends, discriminated by `name`. */
export type PusherWebhookEvent =
  | ChannelOccupiedEvent
  | ChannelVacatedEvent
  | MemberAddedEvent
  | MemberRemovedEvent
  | ClientEventWebhookEvent
  | CacheMissEvent
  | SubscriptionCountEvent;

export type PusherWebhookEventName = PusherWebhookEvent['name'];

/** The event type for one webhook event name. */
export type PusherWebhookEventOf<N extends PusherWebhookEventName> = Extract<PusherWebhookEvent, { name: N }>;

/** A verified webhook body. */
export interface PusherWebhookPayload {
  time_ms: number;
  /** The usable events, in the body's order. */
  events: PusherWebhookEvent[];
  /**
   * Events of the authentic body that were left out because they are malformed or cannot be decrypted; present only
   * when there are any. Not part of the wire format.
   */
  rejectedEvents?: PusherRejectedWebhookEvent[];
}

/** One event of an authentic webhook that reached no handler. */
export interface PusherRejectedWebhookEvent {
  /** Its position in the body's `events` array. */
  index: number;
  /** What is wrong with it, e.g. `Webhook event #3 (client_event) has no data.` */
  reason: string;
  /** The event as sent (untrusted: any JSON value). */
  event: unknown;
}

/** A key/secret pair of a Pusher app (an app can have several, e.g. while rotating). */
export interface WebhookKeyPair {
  key: string;
  secret: string;
}

/** Every webhook event name, for checks at bootstrap. */
export const PUSHER_WEBHOOK_EVENT_NAMES: readonly PusherWebhookEventName[] = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_event',
  'cache_miss',
  'subscription_count',
];
