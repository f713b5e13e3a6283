/** `nest-pusher/core`: the framework-free Pusher Channels server client. */
export { Pusher } from './pusher.js';
export { SIGNED_IN_USER } from './auth.js';
export {
  DEFAULT_WEBHOOK_CLOCK_SKEW_MS,
  DEFAULT_WEBHOOK_MAX_AGE_MS,
  verifyWebhook,
  webhookDeliveryId,
  webhookReplayWindowMs,
  type WebhookVerifier,
} from './webhook.js';
export {
  MemoryWebhookDeliveryStore,
  RedisWebhookDeliveryStore,
  type MemoryWebhookDeliveryStoreOptions,
  type RedisCommand,
  type RedisWebhookDeliveryStoreOptions,
  type WebhookDeliveryClaim,
  type WebhookDeliveryStore,
} from './webhook-delivery-store.js';
export { parsePusherUrl, type PusherUrlOptions } from './pusher.config.js';
export {
  PusherChunkedTriggerError,
  PusherConfigurationError,
  PusherError,
  PusherRequestError,
  PusherValidationError,
  PusherWebhookError,
  type PusherWebhookFailure,
} from './pusher.errors.js';
export type { PusherValidationRule } from './rules.js';
export * from './pusher.types.js';
export type { BatchingOptions, PusherLogger, PusherOptions, RetryOptions } from './pusher.options.js';
export {
  HttpTransportError,
  TimeoutReason,
  type HttpTransport,
  type HttpTransportRequest,
  type HttpTransportResponse,
} from './transport/http-transport.js';
export { UndiciTransport, type UndiciTransportOptions } from './transport/undici.transport.js';
export { FetchTransport, type FetchTransportOptions } from './transport/fetch.transport.js';
