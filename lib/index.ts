// The core client: Pusher, its options, protocol types and errors (also available alone as `nest-pusher/core`).
export * from './core/index.js';

// Module, service, options.
export { PusherModule } from './pusher.module.js';
export { PusherService } from './pusher.service.js';
export type {
  PusherModuleAsyncOptions,
  PusherModuleExtras,
  PusherModuleOptions,
  PusherModuleSyncOptions,
  PusherWebhookOptions,
} from './interfaces/pusher-module-options.interface.js';
export { DEFAULT_WEBHOOK_HANDLER_TIMEOUT_MS, PUSHER_AUTHORIZER } from './pusher.constants.js';

// Channel authorization and user authentication.
export type {
  PusherAuthorizer,
  PusherChannelAuthorization,
  PusherChannelAuthorizationRequest,
  PusherUserAuthentication,
  PusherUserAuthenticationRequest,
} from './interfaces/pusher-authorizer.interface.js';

// Webhooks.
export { PusherWebhook } from './webhooks/pusher-webhook.decorator.js';
export { PusherWebhookGuard } from './webhooks/pusher-webhook.guard.js';
export type { PusherWebhookHttpRequest } from './interfaces/pusher-webhook-http-request.interface.js';
export { PusherWebhookRejectedException } from './webhooks/pusher-webhook.exception.js';
export { VerifiedWebhook } from './webhooks/verified-webhook.decorator.js';
export {
  OnPusherEvent,
  type OnPusherEventOptions,
  type PusherEventContext,
} from './webhooks/on-pusher-event.decorator.js';
export {
  PusherWebhookDispatcher,
  PusherWebhookDispatchError,
  PusherWebhookInProgressError,
  PusherWebhookTimeoutError,
  type PusherEventHandler,
  type PusherEventHandlerFailure,
  type PusherWebhookDispatchOptions,
  type PusherWebhookDispatchResult,
} from './webhooks/pusher-webhook.dispatcher.js';
