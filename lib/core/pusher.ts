import { inspect } from 'node:util';
import { authenticateUser, authorizeChannel, SIGNED_IN_USER, type AuthSigner } from './auth.js';
import { ChannelEncryption, masterKeyRequiredError } from './encryption.js';
import { parsePusherUrl, resolvePusherConfig, type ResolvedPusherConfig } from './pusher.config.js';
import { PusherHttpClient, createDefaultTransport } from './pusher-http-client.js';
import { PusherChunkedTriggerError, PusherValidationError, PusherWebhookError } from './pusher.errors.js';
import type { PusherOptions } from './pusher.options.js';
import type {
  BatchEvent,
  ChannelAuthResponse,
  ChannelInfoAttribute,
  ChannelInfoResult,
  ChannelsInfoOptions,
  ChannelsInfoResult,
  PresenceData,
  PusherWebhookPayload,
  TriggerBatchResult,
  TriggerChunk,
  TriggerChunkFailure,
  TriggerChunkResult,
  TriggerOptions,
  TriggerResult,
  UserAuthResponse,
  UserData,
  UsersInfoResult,
  WebhookRequest,
} from './pusher.types.js';
import { TriggerBatcher, type WireBatchEvent } from './trigger-batcher.js';
import { MAX_BATCH_SIZE, MAX_CHANNELS_PER_TRIGGER, SERVER_TO_USER_PREFIX } from './rules.js';
import {
  TRIGGER_INFO_ATTRIBUTES,
  describeValue,
  encodePathSegment,
  isEncryptedChannel,
  serializeData,
  validateApiPath,
  validateBatchSize,
  validateChannelInfoQuery,
  validateChannelName,
  validateChannelsInfoQuery,
  validateChunkedTriggerChannels,
  validateEventName,
  validateInfoAttributes,
  validatePayloadSize,
  validatePresenceChannel,
  validateQueryParams,
  validateSocketId,
  validateTriggerChannels,
  validateUserId,
} from './validation.js';
import { LIBRARY_VERSION } from './version.js';
import { verifyWebhook, type WebhookVerifier } from './webhook.js';

/** What trigger options may carry. */
const TRIGGER_OPTION_FIELDS: readonly string[] = ['socketId', 'info'];
/** What a triggerBatch item may carry. */
const BATCH_EVENT_FIELDS: readonly string[] = ['channel', 'name', 'data', ...TRIGGER_OPTION_FIELDS];

const LIBRARY_NAME = `nest-pusher ${LIBRARY_VERSION}`;

/** The `/events` body. */
interface WireTrigger {
  name: string;
  data: string;
  channels: string[];
  socket_id?: string;
  info?: string;
}

/** Checked trigger options as the wire spells them. */
interface WireOptions {
  socketId?: string;
  info?: string;
}

/**
 * The one builder of an event on the wire (an `/events` body or a `/batch_events` item): `base` holds the event, the
 * data as sent and its channel(s); the options are copied field by field, so nothing a caller passes can add or
 * replace a protocol field.
 */
function wireEvent<W extends { socket_id?: string; info?: string }>(base: W, options: WireOptions): W {
  if (options.socketId !== undefined) base.socket_id = options.socketId;
  if (options.info !== undefined) base.info = options.info;
  return base;
}

/**
 * Refuses a field `given` does not take: silently ignoring `socket_id` (the official client's spelling) would
 * deliver the event to its sender. The one check of unknown keys, for trigger options and batch items alike.
 */
function refuseUnknownFields(given: object, fields: readonly string[], owner: string): void {
  for (const name of Object.keys(given)) {
    if (!fields.includes(name)) {
      throw new PusherValidationError({
        message: `${owner}: unknown field "${name}"; the fields are ${fields.join(', ')}${name === 'socket_id' ? ' (write socketId)' : ''}.`,
        rule: 'trigger-options',
        value: name,
        limit: fields.join(','),
      });
    }
  }
}

/**
 * The Pusher Channels server API: trigger events, query channels, authorize subscriptions, sign users in and verify
 * webhooks. Every argument is checked against the protocol's limits before anything is sent; async methods reject
 * (never throw) with typed errors.
 *
 * @example
 * const pusher = new Pusher({ appId: '1', key: 'abc', secret: '…', cluster: 'eu' });
 * await pusher.trigger('my-channel', 'my-event', { message: 'hello' });
 */
export class Pusher {
  /** The app id (path segment of every API call). */
  readonly appId: string;
  /** The app key (public; pusher-js uses it too). */
  readonly key: string;

  readonly #config: ResolvedPusherConfig;
  readonly #signer: AuthSigner;
  readonly #webhookVerifier: WebhookVerifier;
  readonly #encryption: ChannelEncryption | undefined;
  readonly #http: PusherHttpClient;
  readonly #batcher: TriggerBatcher | undefined;
  #closing: Promise<void> | undefined;

  /** Whether `encryptionMasterKeyBase64` is set, so that `private-encrypted-` channels can be triggered and authorized. */
  get servesEncryptedChannels(): boolean {
    return this.#encryption !== undefined;
  }

  /** @throws PusherConfigurationError when an option is missing or unusable. */
  constructor(options: PusherOptions) {
    const config = resolvePusherConfig(options);
    this.#config = config;
    this.appId = config.appId;
    this.key = config.key;
    this.#encryption =
      config.encryptionMasterKey === undefined ? undefined : new ChannelEncryption(config.encryptionMasterKey);
    this.#signer = {
      key: config.key,
      secret: config.secret,
      encryption: this.#encryption,
      maxPresenceDataBytes: config.maxPresenceDataBytes,
    };
    this.#webhookVerifier = {
      key: config.key,
      secret: config.secret,
      additionalKeys: config.additionalKeys,
      maxAgeMs: config.webhookMaxAgeMs,
      clockSkewMs: config.webhookClockSkewMs,
      encryption: this.#encryption,
    };
    const transport =
      config.transport ??
      createDefaultTransport({
        ...(config.proxy === undefined ? {} : { proxy: config.proxy }),
        maxConnections: config.maxConnections,
      });
    this.#http = new PusherHttpClient({
      appId: config.appId,
      key: config.key,
      secret: config.secret,
      origin: config.origin,
      timeout: config.timeout,
      retry: config.retry,
      transport,
      ...(config.logger === undefined ? {} : { logger: config.logger }),
      libraryName: LIBRARY_NAME,
    });
    this.#batcher =
      config.batching === false
        ? undefined
        : new TriggerBatcher((batch) => this.#postBatch(batch), config.batching.maxBatchSize);
  }

  /**
   * Builds a client from `http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID` (Heroku's `PUSHER_URL`); `overrides` adds or
   * replaces options (timeout, encryption key, …).
   * @throws PusherConfigurationError for a malformed URL (the message masks the secret).
   */
  static fromUrl(url: string, overrides?: Partial<PusherOptions>): Pusher {
    const options: Record<string, unknown> = { ...parsePusherUrl(url) };
    // An override left undefined (e.g. an unset environment variable) must not erase what the URL says.
    for (const [name, value] of Object.entries(overrides ?? {})) if (value !== undefined) options[name] = value;
    return new Pusher(options as unknown as PusherOptions);
  }

  /**
   * Triggers `event` on one channel or up to 100. `data` strings are sent as they are, anything else JSON-encoded
   * (then encrypted on a `private-encrypted-` channel, which must be the only channel).
   * With `batching` on, single-channel calls of the same tick share `/batch_events` requests.
   * @example await pusher.trigger(['a', 'b'], 'greet', { hello: 'world' }, { socketId: '123.456' })
   */
  trigger(
    channels: string | readonly string[],
    event: string,
    data: unknown,
    options?: TriggerOptions,
  ): Promise<TriggerResult> {
    // Not `async`: the hot path hands back the HTTP call's own promise instead of wrapping it in another one (an
    // extra promise and two microtask turns per call). Anything thrown still becomes a rejection.
    try {
      return this.#trigger(channels, event, data, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #trigger(
    channels: string | readonly string[],
    event: string,
    data: unknown,
    options: TriggerOptions | undefined,
  ): Promise<TriggerResult> {
    const list: string[] = typeof channels === 'string' ? [channels] : Array.isArray(channels) ? [...channels] : [];
    if (typeof channels !== 'string' && !Array.isArray(channels)) {
      throw new PusherValidationError({
        message: `channels must be a channel name or an array of them, got ${describeValue(channels)}.`,
        rule: 'channels-required',
        value: describeValue(channels),
      });
    }
    validateTriggerChannels(list);
    validateEventName(event);
    const wireOptions = this.#triggerOptions(options);
    const wireData = this.#serializeFor(list.length === 1 ? list[0]! : undefined, data);
    if (this.#batcher !== undefined && list.length === 1) {
      return this.#batcher.enqueue(
        wireEvent<WireBatchEvent>({ name: event, data: wireData, channel: list[0]! }, wireOptions),
      );
    }
    return this.#postEvents(wireEvent<WireTrigger>({ name: event, data: wireData, channels: list }, wireOptions));
  }

  /**
   * Triggers up to 10 events, one channel each, in one request. The answer lists attributes per event (request
   * order) when any asked for `info`.
   */
  async triggerBatch(events: readonly BatchEvent[]): Promise<TriggerBatchResult> {
    if (!Array.isArray(events)) {
      throw new PusherValidationError({
        message: `triggerBatch takes an array of events, got ${describeValue(events)}.`,
        rule: 'batch-required',
        value: describeValue(events),
      });
    }
    validateBatchSize(events.length);
    return this.#postBatch(events.map((item: BatchEvent, index) => this.#wireBatchEvent(item, index)));
  }

  /**
   * {@link trigger} for any number of channels (one event to every user's channel, say): sends concurrent `/events`
   * requests of at most 100 channels each and resolves with one result per chunk, in list order. Every channel, the
   * event and the data are checked before the first request; a channel may not be listed twice.
   * Rejects with a {@link PusherChunkedTriggerError} when any chunk failed: it says which channels were accepted and
   * which were not. (`trigger` itself keeps refusing more than 100 channels.)
   * @example const chunks = await pusher.triggerInChunks(userIds.map((id) => `private-user-${id}`), 'notice', { text })
   */
  async triggerInChunks(
    channels: readonly string[],
    event: string,
    data: unknown,
    options?: TriggerOptions,
  ): Promise<Array<TriggerChunkResult<TriggerResult>>> {
    if (!Array.isArray(channels)) {
      throw new PusherValidationError({
        message: `triggerInChunks takes an array of channel names, got ${describeValue(channels)}.`,
        rule: 'channels-required',
        value: describeValue(channels),
      });
    }
    const list: string[] = [...channels];
    validateChunkedTriggerChannels(list);
    validateEventName(event);
    const wireOptions = this.#triggerOptions(options);
    const wireData = this.#serializeFor(list.length === 1 ? list[0]! : undefined, data);
    return this.#sendInChunks('triggerInChunks', 'channels', list, MAX_CHANNELS_PER_TRIGGER, (chunk) =>
      this.#postEvents(wireEvent<WireTrigger>({ name: event, data: wireData, channels: chunk }, wireOptions)),
    );
  }

  /**
   * {@link triggerBatch} for any number of events: sends concurrent `/batch_events` requests of at most 10 events
   * each and resolves with one result per chunk, in list order. Every event is checked before the first request.
   * Rejects with a {@link PusherChunkedTriggerError} when any chunk failed: it says which events were accepted and
   * which were not. (`triggerBatch` itself keeps refusing more than 10 events.)
   */
  async triggerBatchInChunks(events: readonly BatchEvent[]): Promise<Array<TriggerChunkResult<TriggerBatchResult>>> {
    if (!Array.isArray(events)) {
      throw new PusherValidationError({
        message: `triggerBatchInChunks takes an array of events, got ${describeValue(events)}.`,
        rule: 'batch-required',
        value: describeValue(events),
      });
    }
    validateBatchSize(events.length, true);
    const batch = events.map((item: BatchEvent, index) => this.#wireBatchEvent(item, index));
    return this.#sendInChunks('triggerBatchInChunks', 'events', batch, MAX_BATCH_SIZE, (chunk) =>
      this.#postBatch(chunk),
    );
  }

  /** Sends `event` to every connection of a signed-in user (channel `#server-to-user-{userId}`). */
  async sendToUser(userId: string, event: string, data: unknown): Promise<TriggerResult> {
    validateUserId(userId);
    validateEventName(event);
    const channel = SERVER_TO_USER_PREFIX + userId;
    validateChannelName(channel);
    return this.#postEvents({ name: event, data: this.#serializeFor(channel, data), channels: [channel] });
  }

  /** Disconnects every connection of a signed-in user. */
  async terminateUserConnections(userId: string): Promise<Record<string, unknown>> {
    validateUserId(userId);
    return this.#http.request<Record<string, unknown>>(
      'POST',
      `/users/${encodePathSegment(userId)}/terminate_connections`,
      {
        body: '{}',
      },
    );
  }

  /** Lists occupied channels (GET /channels), optionally by prefix; `user_count` needs a `presence-` prefix. */
  async channelsInfo(options?: ChannelsInfoOptions): Promise<ChannelsInfoResult> {
    const { prefixFilter, attributes } = options ?? {};
    validateChannelsInfoQuery(prefixFilter, attributes);
    const params: Record<string, string> = {};
    if (prefixFilter !== undefined && prefixFilter !== '') params.filter_by_prefix = prefixFilter;
    if (attributes !== undefined && attributes.length > 0) params.info = attributes.join(',');
    return this.#http.request<ChannelsInfoResult>('GET', '/channels', { params });
  }

  /** One channel's state (GET /channels/{channel}): occupied, and the attributes asked for. */
  async channelInfo(channel: string, attributes?: readonly ChannelInfoAttribute[]): Promise<ChannelInfoResult> {
    validateChannelName(channel);
    validateChannelInfoQuery(channel, attributes);
    const params: Record<string, string> = {};
    if (attributes !== undefined && attributes.length > 0) params.info = attributes.join(',');
    return this.#http.request<ChannelInfoResult>('GET', `/channels/${encodePathSegment(channel)}`, { params });
  }

  /** Members of a presence channel (GET /channels/{channel}/users). */
  async usersInfo(channel: string): Promise<UsersInfoResult> {
    validateChannelName(channel);
    validatePresenceChannel(channel);
    return this.#http.request<UsersInfoResult>('GET', `/channels/${encodePathSegment(channel)}/users`);
  }

  /**
   * The answer to pusher-js's channel authorization request (`private-`, `presence-` with `presenceData` or
   * `SIGNED_IN_USER` for a connection that signed in, `private-encrypted-` with its `shared_secret`).
   * @throws PusherValidationError (synchronously) for a bad socket id, channel or presence data.
   * @example res.json(pusher.authorizeChannel(body.socket_id, body.channel_name, { user_id: '42' }))
   */
  authorizeChannel(
    socketId: string,
    channel: string,
    presenceData?: PresenceData | typeof SIGNED_IN_USER,
  ): ChannelAuthResponse {
    return authorizeChannel(this.#signer, socketId, channel, presenceData);
  }

  /**
   * The answer to pusher-js's user sign-in request.
   * @throws PusherValidationError (synchronously) for a bad socket id or user data.
   */
  authenticateUser(socketId: string, userData: UserData): UserAuthResponse {
    return authenticateUser(this.#signer, socketId, userData);
  }

  /** The verified, typed webhook payload, or `null` when the request is not an authentic, usable webhook. */
  validateWebhook(request: WebhookRequest): PusherWebhookPayload | null {
    try {
      return verifyWebhook(this.#webhookVerifier, request);
    } catch (error) {
      if (error instanceof PusherWebhookError) return null;
      throw error;
    }
  }

  /**
   * The verified, typed webhook payload.
   * @throws PusherWebhookError whose `reason` says why the webhook was refused.
   */
  verifyWebhook(request: WebhookRequest): PusherWebhookPayload {
    return verifyWebhook(this.#webhookVerifier, request);
  }

  /** Signed GET to any API path relative to /apps/{appId} (for calls not wrapped yet). */
  async get<T = unknown>(path: string, params?: Record<string, string>): Promise<T> {
    validateApiPath(path);
    validateQueryParams(params);
    return this.#http.request<T>('GET', path, params === undefined ? undefined : { params: { ...params } });
  }

  /** Signed POST to any API path relative to /apps/{appId}; a string body is sent as is, anything else JSON-encoded. */
  async post<T = unknown>(path: string, body: unknown, params?: Record<string, string>): Promise<T> {
    validateApiPath(path);
    validateQueryParams(params);
    const serialized = serializeData(body);
    return this.#http.request<T>(
      'POST',
      path,
      params === undefined ? { body: serialized } : { body: serialized, params: { ...params } },
    );
  }

  /**
   * Refuses new calls at once (they reject with code `ECLOSED`), sends batched triggers still waiting, waits for
   * calls in flight, then releases pooled connections. Safe to call twice.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      // The flush starts its /batch_events requests synchronously, so the HTTP client counts them as in flight
      // before it stops taking calls; nothing made after this line is sent.
      const flushed = this.#batcher?.flush();
      const closed = this.#http.close();
      this.#closing = Promise.all([flushed, closed]).then(() => undefined);
    }
    return this.#closing;
  }

  /** Never the secret: logging or serializing a client shows who it is, not how it signs. */
  toJSON(): { appId: string; key: string; origin: string } {
    return { appId: this.appId, key: this.key, origin: this.#config.origin };
  }

  [inspect.custom](): string {
    return `Pusher { appId: ${JSON.stringify(this.appId)}, key: ${JSON.stringify(this.key)}, origin: ${JSON.stringify(this.#config.origin)} }`;
  }

  /** A caller's trigger options, checked. */
  #triggerOptions(options: TriggerOptions | undefined): WireOptions {
    if (options === undefined) return {};
    if (options === null || typeof options !== 'object') {
      throw new PusherValidationError({
        message: `Trigger options must be an object { socketId?, info? }, got ${describeValue(options)}.`,
        rule: 'trigger-options',
        value: describeValue(options),
      });
    }
    refuseUnknownFields(options, TRIGGER_OPTION_FIELDS, 'Trigger options');
    return this.#wireOptions(options);
  }

  /** `socketId` and `info` of options whose field names were checked, as the wire spells them. */
  #wireOptions(options: { socketId?: string; info?: readonly string[] }): WireOptions {
    const result: WireOptions = {};
    if (options.socketId !== undefined) {
      validateSocketId(options.socketId);
      result.socketId = options.socketId;
    }
    if (options.info !== undefined) {
      validateInfoAttributes(options.info, TRIGGER_INFO_ATTRIBUTES);
      if (options.info.length > 0) result.info = options.info.join(',');
    }
    return result;
  }

  /** Serializes (and encrypts, on an encrypted channel) data, then checks the size of what will be sent. */
  #serializeFor(channel: string | undefined, data: unknown): string {
    let wire = serializeData(data);
    if (channel !== undefined && isEncryptedChannel(channel)) {
      if (this.#encryption === undefined) {
        throw masterKeyRequiredError(channel);
      }
      // The plaintext is always the JSON encoding of the data (pusher-js JSON-parses it after decrypting).
      wire = this.#encryption.encrypt(channel, JSON.stringify(data) ?? wire);
    }
    validatePayloadSize(wire, this.#config.maxPayloadBytes);
    return wire;
  }

  /** One triggerBatch item, checked and serialized; `index` is its position, for messages. */
  #wireBatchEvent(item: BatchEvent, index: number): WireBatchEvent {
    if (item === null || typeof item !== 'object') {
      throw new PusherValidationError({
        message: `Batch event #${index} must be an object { channel, name, data }.`,
        rule: 'batch-event',
        value: index,
      });
    }
    refuseUnknownFields(item, BATCH_EVENT_FIELDS, `Batch event #${index}`);
    validateChannelName(item.channel);
    validateEventName(item.name);
    const wireOptions = this.#wireOptions(item);
    return wireEvent<WireBatchEvent>(
      { name: item.name, data: this.#serializeFor(item.channel, item.data), channel: item.channel },
      wireOptions,
    );
  }

  /**
   * Sends `items` in concurrent requests of at most `chunkSize`; all results in order, or one error naming every
   * chunk that failed and every chunk that was accepted (waits for all of them first, so none is left unaccounted).
   */
  async #sendInChunks<T, R>(
    method: string,
    itemsName: string,
    items: readonly T[],
    chunkSize: number,
    send: (chunk: T[]) => Promise<R>,
  ): Promise<Array<TriggerChunkResult<R>>> {
    const chunks: TriggerChunk[] = [];
    for (let start = 0; start < items.length; start += chunkSize) {
      chunks.push({ index: chunks.length, start, end: Math.min(start + chunkSize, items.length) });
    }
    const outcomes = await Promise.allSettled(chunks.map((chunk) => send(items.slice(chunk.start, chunk.end))));
    const succeeded: Array<TriggerChunkResult<R>> = [];
    const failed: TriggerChunkFailure[] = [];
    outcomes.forEach((outcome, index) => {
      const chunk = chunks[index]!;
      if (outcome.status === 'fulfilled') succeeded.push({ ...chunk, result: outcome.value });
      else failed.push({ ...chunk, error: outcome.reason });
    });
    if (failed.length > 0) throw new PusherChunkedTriggerError<R>({ method, items: itemsName, succeeded, failed });
    return succeeded;
  }

  #postEvents(body: WireTrigger): Promise<TriggerResult> {
    return this.#http.request<TriggerResult>('POST', '/events', { body: JSON.stringify(body) });
  }

  #postBatch(batch: WireBatchEvent[]): Promise<TriggerBatchResult> {
    return this.#http.request<TriggerBatchResult>('POST', '/batch_events', { body: JSON.stringify({ batch }) });
  }
}
