import { applyDecorators, HttpCode, HttpStatus, UseGuards } from '@nestjs/common';
import { PusherWebhookGuard } from './pusher-webhook.guard.js';

/**
 * Marks a route as a Pusher webhook endpoint: {@link PusherWebhookGuard} verifies the request before the handler
 * runs (401 otherwise), and success answers 200. On a controller it guards every route of it; those keep Nest's
 * default status (201 for POST, which Pusher also counts as delivered) unless they carry `@HttpCode()`, because
 * `@HttpCode()` exists for methods only.
 *
 * Needs the app created with `{ rawBody: true }`, and `PusherService` visible in the route's module
 * (`isGlobal: true`, or the route in the module that imports `PusherModule`).
 *
 * @example
 * ```ts
 * @Post('hooks/pusher')
 * @PusherWebhook()
 * receive(@VerifiedWebhook() payload: PusherWebhookPayload) { return this.dispatcher.dispatch(payload); }
 * ```
 */
export function PusherWebhook(): ClassDecorator & MethodDecorator {
  return ((target: object, key?: string | symbol, descriptor?: TypedPropertyDescriptor<unknown>) => {
    if (descriptor === undefined) {
      UseGuards(PusherWebhookGuard)(target as Function);
      return;
    }
    applyDecorators(UseGuards(PusherWebhookGuard), HttpCode(HttpStatus.OK))(target, key, descriptor);
  }) as ClassDecorator & MethodDecorator;
}
