/** Injection token of the options given to `PusherModule.forRoot()` / returned by the `forRootAsync()` factory. */
export const PUSHER_MODULE_OPTIONS = 'PUSHER_MODULE_OPTIONS';

/** Metadata key under which `@OnPusherEvent()` stores an array of handler descriptions on a method. */
export const PUSHER_EVENT_HANDLER_METADATA = 'nest-pusher:on-pusher-event';

/**
 * Where `PusherWebhookGuard` leaves the verified payload on the request (read it with `@VerifiedWebhook()`).
 * `Symbol.for`, so the ESM and CommonJS builds agree on it when both are loaded; metadata keys are plain strings.
 */
export const PUSHER_VERIFIED_WEBHOOK = Symbol.for('nest-pusher:verified-webhook');

/** pusher-js's default endpoints and the built-in webhook route. */
export const DEFAULT_WEBHOOK_PATH = '/pusher/webhooks';
export const DEFAULT_CHANNEL_AUTH_PATH = '/pusher/auth';
export const DEFAULT_USER_AUTH_PATH = '/pusher/user-auth';

/**
 * Metadata key `@PusherWebhook()` sets on each route method it guards, so that platform-level code (the Fastify body
 * parser of webhooks) can tell webhook routes from the application's other routes.
 */
export const PUSHER_WEBHOOK_ROUTE_METADATA = 'nest-pusher:webhook-route';
