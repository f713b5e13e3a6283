import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { PusherWebhookPayload } from '../core/pusher.types.js';
import type { PusherWebhookHttpRequest } from '../interfaces/pusher-webhook-http-request.interface.js';
import { PUSHER_VERIFIED_WEBHOOK } from '../pusher.constants.js';

/**
 * The payload `PusherWebhookGuard` verified on this request. Throws on a request it did not verify, rather than hand
 * over an unverified body.
 */
export function verifiedWebhookOf(request: PusherWebhookHttpRequest): PusherWebhookPayload {
  const payload = request[PUSHER_VERIFIED_WEBHOOK];
  if (payload === undefined) {
    throw new Error(
      '@VerifiedWebhook() is used on a route that PusherWebhookGuard did not verify: add @PusherWebhook() to the route or its controller.',
    );
  }
  return payload;
}

/**
 * The verified webhook body (`PusherWebhookPayload`: `time_ms` and `events`) of a route guarded by
 * `@PusherWebhook()`. On a route without the guard it throws (the request answers 500) rather than hand over an
 * unverified body.
 */
export const VerifiedWebhook = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  verifiedWebhookOf(context.switchToHttp().getRequest<PusherWebhookHttpRequest>()),
);
