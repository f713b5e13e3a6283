import {
  ConflictException,
  Controller,
  InternalServerErrorException,
  Logger,
  Post,
  ServiceUnavailableException,
  type Type,
} from '@nestjs/common';
import type { PusherWebhookPayload } from '../core/pusher.types.js';
import { PusherWebhook } from './pusher-webhook.decorator.js';
import {
  PusherWebhookDispatchError,
  PusherWebhookDispatcher,
  type PusherWebhookDispatchResult,
  PusherWebhookInProgressError,
  PusherWebhookTimeoutError,
} from './pusher-webhook.dispatcher.js';
import { VerifiedWebhook } from './verified-webhook.decorator.js';

/** The built-in route's answer: counts only. */
export type PusherWebhooksResponse = Pick<
  PusherWebhookDispatchResult,
  'events' | 'handlerRuns' | 'rejectedEvents' | 'duplicate'
>;

/**
 * Builds the built-in webhook controller for one `PusherModule` registration: `POST {path}` verifies the webhook
 * (`@PusherWebhook()`), dispatches it to the `@OnPusherEvent()` handlers once per delivery, and answers 200 when
 * every handler succeeded (or the delivery was handled before), 500 when any failed, 503 when they took longer than
 * `webhooks.handlerTimeoutMs`, 409 while another request handles the same delivery: every non-2xx makes Pusher
 * deliver it again. Malformed events of an authentic body are skipped (logged) and do not change the answer.
 *
 * A class per registration, decorated with the configured path, because Nest reads route paths from decorator
 * metadata on the class: the path has to be there before the module is scanned, which is before any
 * `forRootAsync()` factory has run, and decorating a shared class would leak one registration's path into another.
 */
export function createPusherWebhooksController(path: string): Type<unknown> {
  @Controller()
  class PusherWebhooksController {
    private readonly logger = new Logger('PusherWebhooksController');

    constructor(private readonly dispatcher: PusherWebhookDispatcher) {}

    // The answer goes back through Nest (not written with @Res()), so that the app's interceptors and filters apply.
    @Post(path)
    @PusherWebhook()
    receive(@VerifiedWebhook() payload: PusherWebhookPayload): Promise<PusherWebhooksResponse> {
      return this.dispatch(payload);
    }

    private async dispatch(payload: PusherWebhookPayload): Promise<PusherWebhooksResponse> {
      try {
        const { events, handlerRuns, rejectedEvents, duplicate } = await this.dispatcher.dispatch(payload);
        return { events, handlerRuns, rejectedEvents, duplicate };
      } catch (error) {
        if (error instanceof PusherWebhookTimeoutError) {
          this.logger.error(error.message);
          throw new ServiceUnavailableException('Webhook handlers timed out; Pusher will deliver this webhook again');
        }
        if (error instanceof PusherWebhookInProgressError) {
          throw new ConflictException('This webhook is being handled by another request; deliver it again later');
        }
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
