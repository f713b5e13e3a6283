import { ServerResponse } from 'node:http';
import {
  ConflictException,
  Controller,
  HttpStatus,
  InternalServerErrorException,
  Logger,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { PusherWebhookPayload } from '../core/pusher.types.js';
import type { PusherWebhookHttpRequest } from '../interfaces/pusher-webhook-http-request.interface.js';
import { PusherWebhook } from './pusher-webhook.decorator.js';
import {
  PusherWebhookDispatchError,
  PusherWebhookDispatcher,
  type PusherWebhookDispatchResult,
  PusherWebhookInProgressError,
  PusherWebhookTimeoutError,
} from './pusher-webhook.dispatcher.js';
import { verifiedWebhookOf } from './verified-webhook.decorator.js';

/** The built-in route's answer: counts only. */
export type PusherWebhooksResponse = Pick<PusherWebhookDispatchResult, 'events' | 'handlerRuns' | 'rejectedEvents' | 'duplicate'>;

/**
 * Sends the 200 answer. On Express (whose response is Node's own `ServerResponse`) it writes the JSON string itself:
 * `res.json()` would re-encode it, hash it for an ETag nobody reads and hand Node a Buffer that goes out in a second
 * write; this is one write, and the largest cost of the route after the socket itself. Other platforms (Fastify)
 * answer through Nest's adapter, which is already cheap there.
 */
function sendAnswer(adapterHost: HttpAdapterHost, response: unknown, answer: PusherWebhooksResponse): void {
  if (response instanceof ServerResponse) {
    // Counts and a boolean only, so the JSON is plain ASCII: its length is its byte length.
    const json = `{"events":${answer.events},"handlerRuns":${answer.handlerRuns},"rejectedEvents":${answer.rejectedEvents},"duplicate":${answer.duplicate}}`;
    response.statusCode = HttpStatus.OK;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Content-Length', json.length);
    response.end(json);
    return;
  }
  adapterHost.httpAdapter.reply(response, answer, HttpStatus.OK);
}

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

    constructor(
      private readonly dispatcher: PusherWebhookDispatcher,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    /**
     * `@Req()`/`@Res()` rather than `@VerifiedWebhook()` and a returned body: the answer is written by
     * {@link sendAnswer}. Failures are thrown as before and answered by Nest's exception filters.
     */
    @Post(path)
    @PusherWebhook()
    async receive(@Req() request: PusherWebhookHttpRequest, @Res() response: unknown): Promise<void> {
      const answer = await this.dispatch(verifiedWebhookOf(request));
      sendAnswer(this.adapterHost, response, answer);
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
