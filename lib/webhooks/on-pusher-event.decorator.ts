import type { PusherWebhookEventName, PusherWebhookEventOf, PusherWebhookPayload } from '../core/pusher.types.js';
import { PUSHER_EVENT_HANDLER_METADATA } from '../pusher.constants.js';

/** Options of {@link OnPusherEvent}. */
export interface OnPusherEventOptions {
  /** Only events on this channel: an exact channel name, or a pattern tested against the name. */
  channel?: string | RegExp;
}

/** The second argument of every `@OnPusherEvent()` handler. */
export interface PusherEventContext {
  /** When Pusher created the webhook (its `time_ms`, Unix milliseconds). */
  timeMs: number;
  /**
   * The whole verified webhook the event came in (several events when Pusher batches); `payload.rejectedEvents`
   * lists its events that were malformed or undecryptable and reached no handler.
   */
  payload: PusherWebhookPayload;
}

/** What one `@OnPusherEvent()` leaves on a method; a method carries an array of these. */
export interface PusherEventHandlerMetadata {
  events: readonly string[];
  channel?: string | RegExp;
}

/**
 * Runs the method for every verified webhook event with one of these names (and, with `channel`, on a matching
 * channel). Works on methods of any provider or controller; stack it to listen to several names or channels. The
 * handler gets the typed event and a {@link PusherEventContext}. Names are checked at bootstrap: an unknown name
 * fails the application start. A handler that throws makes the built-in webhook route answer 500 (one that takes
 * longer than `webhooks.handlerTimeoutMs`, 503), so Pusher delivers again: handlers should be idempotent. A delivery
 * that succeeded is not handled again (see docs/webhooks.md).
 *
 * @example
 * ```ts
 * @OnPusherEvent(['member_added', 'member_removed'], { channel: /^presence-room-/ })
 * onMembership(event: MemberAddedEvent | MemberRemovedEvent, { timeMs }: PusherEventContext) { ... }
 * ```
 */
export function OnPusherEvent<N extends PusherWebhookEventName>(
  event: N | readonly N[],
  options: OnPusherEventOptions = {},
) {
  const metadata: PusherEventHandlerMetadata = {
    events: typeof event === 'string' ? [event] : [...event],
    ...(options.channel !== undefined ? { channel: options.channel } : {}),
  };
  return <T extends (event: PusherWebhookEventOf<N>, context: PusherEventContext) => unknown>(
    _target: object,
    _propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void => {
    const method = descriptor.value;
    if (typeof method !== 'function') {
      throw new TypeError('@OnPusherEvent() belongs on a method.');
    }
    // An array, appended to, so that stacked decorators add up instead of overwriting each other.
    const existing: PusherEventHandlerMetadata[] = Reflect.getMetadata(PUSHER_EVENT_HANDLER_METADATA, method) ?? [];
    Reflect.defineMetadata(PUSHER_EVENT_HANDLER_METADATA, [...existing, metadata], method);
  };
}
