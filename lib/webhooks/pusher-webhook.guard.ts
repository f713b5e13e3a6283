import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { PusherWebhookError } from '../core/pusher.errors.js';
import type { PusherWebhookPayload } from '../core/pusher.types.js';
import { webhookDeliveryId } from '../core/webhook.js';
import type { PusherWebhookHttpRequest } from '../interfaces/pusher-webhook-http-request.interface.js';
import { PUSHER_VERIFIED_WEBHOOK } from '../pusher.constants.js';
import { PusherService } from '../pusher.service.js';
import { rememberDeliveryId } from './pusher-webhook-delivery.js';
import { PusherWebhookRejectedException } from './pusher-webhook.exception.js';

/**
 * Lets a request through only when it is an authentic Pusher webhook: `X-Pusher-Key` is this app's key and
 * `X-Pusher-Signature` is the HMAC-SHA256 of the raw body bytes under this app's secret (or one of `additionalKeys`),
 * and `time_ms` is inside the freshness window (`webhookMaxAgeMs`, `webhookClockSkewMs`). Otherwise it throws {@link PusherWebhookRejectedException} (401, also for
 * a body that is not JSON). A JSON body without its raw bytes means the app was not created with `{ rawBody: true }`:
 * it fails closed (500) and logs how to fix the app. The verified payload is left on the request for
 * `@VerifiedWebhook()`. Use it through `@PusherWebhook()`; subclass it to change how requests are read.
 */
@Injectable()
export class PusherWebhookGuard implements CanActivate {
  protected readonly logger = new Logger('PusherWebhookGuard');

  constructor(protected readonly pusher: PusherService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = this.getRequest(context);
    const body = this.getRawBody(request);
    if (body === undefined) {
      if (this.isParsedJson(request)) {
        // Nest parsed a JSON body but kept no bytes: the app was created without `rawBody: true`. Every webhook
        // would fail, so this is the application's fault (500), and the log says how to fix it.
        this.logger.error(
          'Refused a Pusher webhook: the request has no raw body, so its signature cannot be checked; ' +
            'create the app with `{ rawBody: true }`, e.g. NestFactory.create(AppModule, { rawBody: true }).',
        );
        throw this.createException('missing-raw-body');
      }
      // Not a JSON body (Pusher always sends application/json), so there are no bytes to verify: not authentic.
      this.logger.warn('Refused a Pusher webhook: malformed-body (not an application/json body)');
      throw this.createException('malformed-body');
    }
    let payload: PusherWebhookPayload;
    try {
      payload = this.pusher.verifyWebhook({
        key: this.getHeader(request, 'x-pusher-key'),
        signature: this.getHeader(request, 'x-pusher-signature'),
        body,
      });
    } catch (error) {
      if (error instanceof PusherWebhookError) {
        // The reason only: the core's message and the headers stay out of the log.
        this.logger.warn(`Refused a Pusher webhook: ${error.reason}`);
        throw this.createException(error.reason);
      }
      throw error;
    }
    // Authentic bodies only: hashing a forged one would cost work for nothing.
    rememberDeliveryId(payload, webhookDeliveryId(body));
    request[PUSHER_VERIFIED_WEBHOOK] = payload;
    return true;
  }

  /** The HTTP request of the route being guarded. */
  protected getRequest(context: ExecutionContext): PusherWebhookHttpRequest {
    return context.switchToHttp().getRequest<PusherWebhookHttpRequest>();
  }

  /** Whether the platform parsed the body as JSON (so that it would have kept the raw bytes with `rawBody: true`). */
  protected isParsedJson(request: PusherWebhookHttpRequest): boolean {
    const contentType = request.headers['content-type'];
    const mediaType = (Array.isArray(contentType) ? contentType[0] : contentType)?.split(';')[0]?.trim().toLowerCase();
    // `+json`: the media type PusherWebhookFastifyBody parses Pusher's webhooks under on Fastify.
    return (mediaType === 'application/json' || mediaType?.endsWith('+json') === true) && request.body !== undefined;
  }

  /** The exact body bytes, or `undefined` when the platform kept none. */
  protected getRawBody(request: PusherWebhookHttpRequest): Buffer | string | undefined {
    const { rawBody } = request;
    return Buffer.isBuffer(rawBody) || typeof rawBody === 'string' ? rawBody : undefined;
  }

  /** A request header by its lower-case name (Node lower-cases incoming header names on both platforms). */
  protected getHeader(request: PusherWebhookHttpRequest, name: string): string | string[] | undefined {
    return request.headers[name];
  }

  /** The exception thrown for a refused webhook. */
  protected createException(reason: PusherWebhookError['reason']): Error {
    return new PusherWebhookRejectedException(reason);
  }
}
