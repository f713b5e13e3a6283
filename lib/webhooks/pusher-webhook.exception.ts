import { HttpException, HttpStatus } from '@nestjs/common';
import type { PusherWebhookFailure } from '../core/pusher.errors.js';
import { brandClass } from '../core/brand.js';

/**
 * Thrown by `PusherWebhookGuard` when a webhook request must reach no handler. 401 for a request that is not
 * authentic (unsigned, forged, wrong key, malformed or not JSON, stale); 500 for `missing-raw-body`: a JSON body was
 * parsed but its bytes were not kept, i.e. the app was not created with `{ rawBody: true }` (the application's fault,
 * not the sender's). Either way Pusher delivers again later. The answer names the reason only, never a key, signature
 * or secret.
 */
export class PusherWebhookRejectedException extends HttpException {
  static {
    brandClass(this, 'PusherWebhookRejectedException');
  }
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
