import {
  ConflictException,
  Controller,
  InternalServerErrorException,
  Logger,
  Post,
  Req,
  ServiceUnavailableException,
  type Type,
} from '@nestjs/common';
import { PusherWebhook } from './pusher-webhook.decorator.js';
import {
  PusherWebhookDispatchError,
  PusherWebhookDispatcher,
  type PusherWebhookDispatchResult,
  PusherWebhookInProgressError,
  PusherWebhookTimeoutError,
} from './pusher-webhook.dispatcher.js';
import type { PusherWebhookHttpRequest } from '../interfaces/pusher-webhook-http-request.interface.js';
import { verifiedWebhookOf } from './verified-webhook.decorator.js';

/** The built-in route's answer with `webhookController: { summary: true }`: counts only. */
export type PusherWebhooksResponse = Pick<
  PusherWebhookDispatchResult,
  'events' | 'handlerRuns' | 'rejectedEvents' | 'duplicate'
>;

/**
 * Builds the built-in webhook controller for one `PusherModule` registration: `POST {path}` verifies the webhook
 * (`@PusherWebhook()`), dispatches it to the `@OnPusherEvent()` handlers once per delivery, and answers 200 when
 * every handler succeeded (or the delivery was handled before), with an empty body (Pusher reads the status only;
 * the JSON summary costs about a fifth of the route's CPU, so it is opt-in: `summary`), 500 when any failed, 503
 * when they took longer than
 * `webhooks.handlerTimeoutMs`, 409 while another request handles the same delivery: every non-2xx makes Pusher
 * deliver it again. Malformed events of an authentic body are skipped (logged) and do not change the answer.
 *
 * A class per registration, decorated with the configured path, because Nest reads route paths from decorator
 * metadata on the class: the path has to be there before the module is scanned, which is before any
 * `forRootAsync()` factory has run, and decorating a shared class would leak one registration's path into another.
 */
export function createPusherWebhooksController(path: string, options: { summary: boolean }): Type<unknown> {
  const { summary } = options;
  @Controller()
  class PusherWebhooksController {
    private readonly logger = new Logger('PusherWebhooksController');

    constructor(private readonly dispatcher: PusherWebhookDispatcher) {}

    // The answer goes back through Nest (not written with @Res()), so that the app's interceptors and filters apply.
    @Post(path)
    @PusherWebhook()
    // @Req() rather than @VerifiedWebhook(): Nest resolves a built-in parameter with less work per request than a
    // custom one; verifiedWebhookOf() is what @VerifiedWebhook() reads.
    receive(@Req() request: PusherWebhookHttpRequest): Promise<PusherWebhooksResponse | undefined> {
      return this.dispatcher.dispatch(verifiedWebhookOf(request)).then(this.answer, this.refuse);
    }

    private readonly answer = ({
      events,
      handlerRuns,
      rejectedEvents,
      duplicate,
    }: PusherWebhookDispatchResult): PusherWebhooksResponse | undefined =>
      // undefined: Nest answers an empty body, without serializing, hashing (ETag) and writing a JSON one.
      summary ? { events, handlerRuns, rejectedEvents, duplicate } : undefined;

    private readonly refuse = (error: unknown): never => {
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
    };
  }
  return PusherWebhooksController;
}
