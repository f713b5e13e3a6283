import type { HttpTransport } from './transport/http-transport.js';

/** Nest-style logger; Nest's `Logger` and `console` both fit. Every method is optional. */
export interface PusherLogger {
  debug?(message: string, ...optional: unknown[]): void;
  log?(message: string, ...optional: unknown[]): void;
  warn?(message: string, ...optional: unknown[]): void;
  error?(message: string, ...optional: unknown[]): void;
}

/**
 * Retries with exponential backoff and full jitter. Always retried: connection failures before the request was sent,
 * 429 and 503 (honouring `Retry-After`). Never retried: other 4xx. 5xx and timeouts only when opted in, because a
 * repeated trigger may deliver an event twice. Every attempt stays inside the call's `timeout`.
 */
export interface RetryOptions {
  /** Total attempts including the first. Default 3; 1 disables retries. */
  attempts?: number;
  /** Default 100 ms. */
  minDelayMs?: number;
  /** Default 2000 ms. Also the longest `Retry-After` waited for: a server asking for more gets its 429/503 reported, not an early retry. */
  maxDelayMs?: number;
  /** Also retry 500, 502 and 504. Default false. */
  retryServerErrors?: boolean;
  /** Also retry requests that timed out or lost their connection after being sent. Default false. */
  retryTimeouts?: boolean;
}

/** Coalesces `trigger` calls made in the same tick into `/batch_events` requests. */
export interface BatchingOptions {
  /** Events per request, 1 to 10 (Pusher's batch limit). Default 10. */
  maxBatchSize?: number;
}

/** Everything `new Pusher()` accepts. Only `appId`, `key` and `secret` are required. */
export interface PusherOptions {
  appId: string;
  key: string;
  secret: string;
  /** e.g. `eu`, `us2`, `mt1`; selects `api-{cluster}.pusher.com`. */
  cluster?: string;
  /** Explicit API host; wins over `cluster`. May include no scheme and no path. */
  host?: string;
  port?: number;
  /** Default true (HTTPS). */
  useTLS?: boolean;
  /** Bounds the whole call (connect, headers, body, retries) in ms. Default 10000. */
  timeout?: number;
  /** Largest `data` per event in bytes. Default 10240 (Pusher's shared clusters). */
  maxPayloadBytes?: number;
  /** 32 random bytes as base64; enables `private-encrypted-` channels. */
  encryptionMasterKeyBase64?: string;
  /** Route every API call through this HTTP proxy, e.g. `http://127.0.0.1:3128`. */
  proxy?: string;
  /** Maximum pooled keep-alive connections to the API host. Default 64. */
  maxConnections?: number;
  /** Replace the HTTP backend. When given, `proxy` and `maxConnections` are the transport's business. */
  transport?: HttpTransport;
  retry?: RetryOptions | false;
  /** Opt-in: coalesce same-tick triggers into batch requests. */
  batching?: boolean | BatchingOptions;
  logger?: PusherLogger;
  /**
   * Refuse webhooks whose `time_ms` is older than this (ms), so that a captured webhook cannot be replayed later.
   * Default 300000: Pusher redelivers a failed webhook for 5 minutes. `false` switches the window off.
   */
  webhookMaxAgeMs?: number | false;
  /** Clock difference tolerated either way between the sender and this server (ms), on top of the age window. Default 60000. */
  webhookClockSkewMs?: number;
  /**
   * More key/secret pairs of this app. Webhooks signed with any of them are accepted; `key`/`secret` stay the pair
   * that signs API calls and auth answers. Use while rotating a secret.
   */
  additionalKeys?: ReadonlyArray<{ key: string; secret: string }>;
  /**
   * Largest presence member data (`JSON.stringify({ user_id, user_info })`) signed, in bytes. Default 1024: Pusher
   * documents a 1 KB user object; self-hosted servers (soketi: `presence.maxMemberSizeInKb`) set their own.
   */
  maxPresenceDataBytes?: number;
}
