import { Injectable, Logger } from '@nestjs/common';
import type { PusherWebhookEvent, PusherWebhookEventName, PusherWebhookPayload } from '../core/pusher.types.js';
import type { PusherEventContext } from './on-pusher-event.decorator.js';
import { brandClass } from '../core/brand.js';

/** One registered handler: found by the explorer from `@OnPusherEvent()`, or added with `addHandler()`. */
export interface PusherEventHandler {
  /** Event names it listens to. */
  events: readonly PusherWebhookEventName[];
  /** Exact channel name or pattern; every channel when absent. */
  channel?: string | RegExp;
  /** Shown in logs, e.g. `PresenceService.onMemberAdded`. */
  name: string;
  handle(event: PusherWebhookEvent, context: PusherEventContext): unknown;
}

/** One handler that threw or rejected while handling one event. */
export interface PusherEventHandlerFailure {
  handler: string;
  event: PusherWebhookEvent;
  error: unknown;
}

/** What one `dispatch()` did. */
export interface PusherWebhookDispatchResult {
  /** Events in the webhook. */
  events: number;
  /** Handler runs (one per matching handler per event). */
  handlerRuns: number;
  failures: PusherEventHandlerFailure[];
}

/** `dispatch()` rejects with this when any handler failed; every other handler still ran. */
export class PusherWebhookDispatchError extends AggregateError {
  static {
    brandClass(this, 'PusherWebhookDispatchError');
  }
  override name = 'PusherWebhookDispatchError';
  constructor(readonly result: PusherWebhookDispatchResult) {
    super(
      result.failures.map((failure) => failure.error),
      `${result.failures.length} of ${result.handlerRuns} Pusher webhook handler runs failed (` +
        result.failures.map((failure) => `${failure.handler} on ${failure.event.name}`).join(', ') +
        ')',
    );
  }
}

interface RegisteredHandler extends PusherEventHandler {
  matchesChannel(channel: string): boolean;
}

/**
 * Hands every event of a verified webhook to every matching `@OnPusherEvent()` handler. Use it from your own
 * `@PusherWebhook()` route; the built-in webhook route uses it too.
 */
@Injectable()
export class PusherWebhookDispatcher {
  protected readonly logger = new Logger('PusherWebhookDispatcher');
  /** Handlers by event name, in registration order. Arrays are replaced, never changed, so a dispatch can iterate one safely. */
  private readonly handlersByEvent = new Map<string, readonly RegisteredHandler[]>();

  /** Registers a handler; returns a function that removes it again. */
  addHandler(handler: PusherEventHandler): () => void {
    const registered: RegisteredHandler = { ...handler, matchesChannel: channelMatcher(handler.channel) };
    const names = new Set<string>(handler.events);
    for (const name of names) this.handlersByEvent.set(name, [...(this.handlersByEvent.get(name) ?? []), registered]);
    return () => {
      for (const name of names) {
        const remaining = (this.handlersByEvent.get(name) ?? []).filter((candidate) => candidate !== registered);
        if (remaining.length === 0) this.handlersByEvent.delete(name);
        else this.handlersByEvent.set(name, remaining);
      }
    };
  }

  /**
   * Runs the handlers of each event, event after event in the webhook's order; the handlers of one event run
   * concurrently. A failing handler is logged and does not stop the others. Resolves with a summary when every
   * handler succeeded; rejects with {@link PusherWebhookDispatchError} when any failed, so that a route that awaits it
   * answers 500 and Pusher delivers the webhook again.
   */
  async dispatch(payload: PusherWebhookPayload): Promise<PusherWebhookDispatchResult> {
    const context: PusherEventContext = { timeMs: payload.time_ms, payload };
    const result: PusherWebhookDispatchResult = { events: payload.events.length, handlerRuns: 0, failures: [] };
    for (const event of payload.events) {
      const candidates = this.handlersByEvent.get(event.name);
      if (candidates === undefined) continue;
      // Synchronous handlers cost no promise; failures are reported in handler order whenever they happened.
      let pending: Array<Promise<void>> | undefined;
      let failed: Array<PusherEventHandlerFailure | undefined> | undefined;
      for (let index = 0; index < candidates.length; index++) {
        const handler = candidates[index]!;
        if (!handler.matchesChannel(event.channel)) continue;
        result.handlerRuns++;
        try {
          const outcome = handler.handle(event, context);
          if (isPromiseLike(outcome)) {
            (pending ??= []).push(
              Promise.resolve(outcome).then(undefined, (error: unknown) => {
                (failed ??= [])[index] = { handler: handler.name, event, error };
              }),
            );
          }
        } catch (error) {
          (failed ??= [])[index] = { handler: handler.name, event, error };
        }
      }
      if (pending !== undefined) await Promise.all(pending);
      if (failed !== undefined) {
        for (const failure of failed) {
          if (failure === undefined) continue;
          result.failures.push(failure);
          this.logFailure(failure.handler, event, failure.error);
        }
      }
    }
    if (result.failures.length > 0) {
      throw new PusherWebhookDispatchError(result);
    }
    return result;
  }

  /** Logs one handler failure: the handler, the event's name and channel, the error. Never the event data. */
  protected logFailure(handler: string, event: PusherWebhookEvent, error: unknown): void {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.error(
      `${handler} failed on ${event.name} (channel ${event.channel}): ${message}`,
      error instanceof Error ? error.stack : undefined,
    );
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function channelMatcher(channel: string | RegExp | undefined): (name: string) => boolean {
  if (channel === undefined) {
    return () => true;
  }
  if (typeof channel === 'string') {
    return (name) => name === channel;
  }
  // A copy without `g`/`y`: those make `test()` stateful (lastIndex) and would skip every other match.
  const pattern = new RegExp(channel.source, channel.flags.replace(/[gy]/g, ''));
  return (name) => pattern.test(name);
}
