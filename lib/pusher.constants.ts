/**
 * Injection token of the options given to `PusherModule.forRoot()` / returned by the `forRootAsync()` factory.
 * Internal: the options hold the app secret, so the token is not exported by the package nor by the module. What the
 * Nest layer needs from them it reads through `PusherService` or {@link PUSHER_WEBHOOK_SETTINGS}.
 */
export const PUSHER_MODULE_OPTIONS = 'PUSHER_MODULE_OPTIONS';

/** Internal token of the dispatcher's settings (`PusherWebhookSettings`): a copy of the non-secret webhook options. */
export const PUSHER_WEBHOOK_SETTINGS = 'PUSHER_WEBHOOK_SETTINGS';

/** Injection token of the application's authorizer (the `authorizer` class given to `PusherModule`), or `null`. */
export const PUSHER_AUTHORIZER = 'PUSHER_AUTHORIZER';

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

/** Pusher's own deadline for a webhook answer ("respond ... with a 2XX status code within 4 seconds"). */
export const DEFAULT_WEBHOOK_HANDLER_TIMEOUT_MS = 4000;
