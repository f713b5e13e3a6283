import type { PusherWebhookPayload } from '../core/pusher.types.js';

/**
 * The delivery id of each payload the guard verified, so that `dispatch(payload)` on any `@PusherWebhook()` route
 * suppresses duplicates without the route passing the id along. Weak: a payload and its id go away together.
 */
const deliveryIds = new WeakMap<PusherWebhookPayload, string>();

export function rememberDeliveryId(payload: PusherWebhookPayload, deliveryId: string): void {
  deliveryIds.set(payload, deliveryId);
}

export function deliveryIdOf(payload: PusherWebhookPayload): string | undefined {
  return deliveryIds.get(payload);
}
