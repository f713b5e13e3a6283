// The core client: Pusher, its options, protocol types and errors (also available alone as `nest-pusher/core`).
export * from './core/index.js';

// Module, service, options.
export { PusherModule } from './pusher.module.js';
export { PusherService } from './pusher.service.js';
export { PUSHER_MODULE_OPTIONS } from './pusher.constants.js';
export type {
  PusherModuleAsyncOptions,
  PusherModuleExtras,
  PusherModuleOptions,
  PusherModuleSyncOptions,
} from './pusher.module-definition.js';

// Channel authorization and user authentication.
export { PUSHER_AUTHORIZER } from './auth/pusher-authorizer.interface.js';
export type {
  PusherAuthorizer,
  PusherChannelAuthorization,
  PusherChannelAuthorizationRequest,
  PusherUserAuthentication,
  PusherUserAuthenticationRequest,
} from './auth/pusher-authorizer.interface.js';

// Webhooks.
export { PusherWebhook } from './webhooks/pusher-webhook.decorator.js';
export { PusherWebhookGuard, type PusherWebhookHttpRequest } from './webhooks/pusher-webhook.guard.js';
export { PusherWebhookRejectedException } from './webhooks/pusher-webhook.exception.js';
export { VerifiedWebhook } from './webhooks/verified-webhook.decorator.js';
export { OnPusherEvent, type OnPusherEventOptions, type PusherEventContext } from './webhooks/on-pusher-event.decorator.js';
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
export {
  DEFAULT_WEBHOOK_HANDLER_TIMEOUT_MS,
  type PusherWebhookOptions,
} from './webhooks/pusher-webhook-options.interface.js';
