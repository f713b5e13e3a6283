import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { PUSHER_AUTHORIZER } from './pusher.constants.js';
import { ConfigurablePusherModule } from './pusher.module-definition.js';
import { PusherService } from './pusher.service.js';
import { PusherEventsExplorer } from './webhooks/pusher-events.explorer.js';
import { PusherWebhookDispatcher } from './webhooks/pusher-webhook.dispatcher.js';
import { PusherWebhookFastifyBody } from './webhooks/pusher-webhook-fastify-body.js';
import { PusherWebhookGuard } from './webhooks/pusher-webhook.guard.js';

/**
 * Pusher Channels for Nest: `PusherService` (the whole client), webhook verification and `@OnPusherEvent()`
 * dispatch, and pusher-js's auth endpoints.
 *
 * @example
 * ```ts
 * PusherModule.forRoot({ appId, key, secret, cluster: 'eu', authorizer: AppPusherAuthorizer })
 * PusherModule.forRootAsync({
 *   imports: [ConfigModule], inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ appId: config.getOrThrow('PUSHER_APP_ID'), ... }),
 *   authorizer: AppPusherAuthorizer, isGlobal: true,
 * })
 * ```
 * Options: every core option (`PusherOptions`). Extras (both methods): `isGlobal`, `authorizer`,
 * `webhookController`, `authController`, and `imports` for `forRoot()`. Webhooks need the app created with
 * `{ rawBody: true }`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    PusherService,
    PusherWebhookGuard,
    PusherWebhookDispatcher,
    PusherEventsExplorer,
    PusherWebhookFastifyBody,
  ],
  // Not the options token: the options hold the secret (see PUSHER_MODULE_OPTIONS).
  exports: [PusherService, PusherWebhookGuard, PusherWebhookDispatcher, PUSHER_AUTHORIZER],
})
export class PusherModule extends ConfigurablePusherModule {}
