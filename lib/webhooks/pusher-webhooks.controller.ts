import { Controller, InternalServerErrorException, Post, type Type } from '@nestjs/common';
import type { PusherWebhookPayload } from '../core/pusher.types.js';
import { PusherWebhook } from './pusher-webhook.decorator.js';
import {
  PusherWebhookDispatchError,
  PusherWebhookDispatcher,
  type PusherWebhookDispatchResult,
} from './pusher-webhook.dispatcher.js';
import { VerifiedWebhook } from './verified-webhook.decorator.js';

/** The built-in route's answer: counts only. */
export type PusherWebhooksResponse = Pick<PusherWebhookDispatchResult, 'events' | 'handlerRuns'>;

/**
 * Builds the built-in webhook controller for one `PusherModule` registration: `POST {path}` verifies the webhook
 * (`@PusherWebhook()`), dispatches it to the `@OnPusherEvent()` handlers, and answers 200 when every handler
 * succeeded or 500 when any failed (so that Pusher delivers it again).
 *
 * A class per registration, decorated with the configured path, because Nest reads route paths from decorator
 * metadata on the class: the path has to be there before the module is scanned, which is before any
 * `forRootAsync()` factory has run, and decorating a shared class would leak one registration's path into another.
 */
export function createPusherWebhooksController(path: string): Type<unknown> {
  @Controller()
  class PusherWebhooksController {
    constructor(private readonly dispatcher: PusherWebhookDispatcher) {}

    @Post(path)
    @PusherWebhook()
    async receive(@VerifiedWebhook() payload: PusherWebhookPayload): Promise<PusherWebhooksResponse> {
      try {
        const { events, handlerRuns } = await this.dispatcher.dispatch(payload);
        return { events, handlerRuns };
      } catch (error) {
        if (error instanceof PusherWebhookDispatchError) {
          // Each failure is already logged by the dispatcher; the 500 is what makes Pusher redeliver.
          throw new InternalServerErrorException(
            `${error.result.failures.length} of ${error.result.handlerRuns} webhook handler runs failed; ` +
              'Pusher will deliver this webhook again',
          );
        }
        throw error;
      }
    }
  }
  return PusherWebhooksController;
}
