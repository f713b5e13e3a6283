import { HttpException, HttpStatus } from '@nestjs/common';
import type { PusherWebhookFailure } from '../core/pusher.errors.js';

/**
 * Thrown by `PusherWebhookGuard` when a webhook request must reach no handler. 401 for a request that is not
 * authentic (unsigned, forged, wrong key, malformed, stale); 500 for `missing-raw-body`, which is the application's
 * configuration, not the sender's fault (the app was not created with `{ rawBody: true }`). Either way Pusher delivers
 * again later. The answer names the reason only, never a key, signature or secret.
 */
export class PusherWebhookRejectedException extends HttpException {
  constructor(readonly reason: PusherWebhookFailure) {
    const status = reason === 'missing-raw-body' ? HttpStatus.INTERNAL_SERVER_ERROR : HttpStatus.UNAUTHORIZED;
    super(
      {
        statusCode: status,
        error: status === HttpStatus.UNAUTHORIZED ? 'Unauthorized' : 'Internal Server Error',
        message: `Pusher webhook rejected: ${reason}`,
        reason,
      },
      status,
    );
    this.name = 'PusherWebhookRejectedException';
  }
}
