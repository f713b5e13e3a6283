import type { PusherWebhookPayload } from '../core/pusher.types.js';

/**
 * Where the guard leaves the delivery id of a payload it verified, so that `dispatch(payload)` on any
 * `@PusherWebhook()` route suppresses duplicates without the route passing the id along. A symbol-keyed property of
 * the payload rather than a WeakMap entry: it goes away with the payload, and a WeakMap of short-lived keys costs the
 * garbage collector work on every collection. Not enumerable, so that it is invisible to `JSON.stringify`, spreads
 * and deep equality, as the WeakMap entry was. `Symbol.for`, so that the CommonJS and ESM copies of this package agree.
 */
const DELIVERY_ID: unique symbol = Symbol.for('nest-pusher:webhook-delivery-id') as never;

interface PayloadWithDeliveryId extends PusherWebhookPayload {
  [DELIVERY_ID]?: string;
}

/** Ids of payloads that cannot take a property (frozen by a guard subclass or a test double). */
const idsOfSealedPayloads = new WeakMap<PusherWebhookPayload, string>();

export function rememberDeliveryId(payload: PusherWebhookPayload, deliveryId: string): void {
  if (Object.isExtensible(payload))
    Object.defineProperty(payload, DELIVERY_ID, { value: deliveryId, configurable: true });
  else idsOfSealedPayloads.set(payload, deliveryId);
}

export function deliveryIdOf(payload: PusherWebhookPayload): string | undefined {
  // Own only: an object made with Object.create(payload) is not that delivery.
  if (!Object.hasOwn(payload, DELIVERY_ID)) return idsOfSealedPayloads.get(payload);
  const deliveryId = (payload as PayloadWithDeliveryId)[DELIVERY_ID];
  return typeof deliveryId === 'string' ? deliveryId : undefined;
}
