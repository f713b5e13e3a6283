import type { PusherOptions } from '../core/pusher.options.js';
import type { WebhookDeliveryStore } from '../core/webhook-delivery-store.js';

/** Pusher's own deadline for a webhook answer ("respond ... with a 2XX status code within 4 seconds"). */
export const DEFAULT_WEBHOOK_HANDLER_TIMEOUT_MS = 4000;

/** How the Nest layer handles verified webhooks (`webhooks` in the module options). */
export interface PusherWebhookOptions {
  /**
   * Where handled deliveries are remembered, so that a redelivered or replayed webhook runs no handler twice.
   * Default: this process's memory (`MemoryWebhookDeliveryStore`). Replicas behind one URL need a shared store
   * (`RedisWebhookDeliveryStore`). `false` switches duplicate suppression off.
   */
  deliveryStore?: WebhookDeliveryStore | false;
  /**
   * How long the handlers of one webhook may take, in ms, before the route answers 503 so that Pusher delivers it
   * again. Default 4000: Pusher counts an answer later than 4 s as failed anyway. The handlers are not cancelled.
   */
  handlerTimeoutMs?: number;
}

/** What the module's options token holds: the core options and the webhook settings. */
export interface PusherModuleOptionsShape extends PusherOptions {
  webhooks?: PusherWebhookOptions;
}
