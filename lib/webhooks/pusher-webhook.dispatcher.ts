import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { PusherConfigurationError } from '../core/pusher.errors.js';
import { describeOptionValue, optionSecrets } from '../core/redaction.js';
import type { PusherWebhookEvent, PusherWebhookEventName, PusherWebhookPayload } from '../core/pusher.types.js';
import { MemoryWebhookDeliveryStore, type WebhookDeliveryStore } from '../core/webhook-delivery-store.js';
import { webhookReplayWindowMs } from '../core/webhook.js';
import type { PusherWebhookSettings } from '../interfaces/pusher-module-options.interface.js';
import { DEFAULT_WEBHOOK_HANDLER_TIMEOUT_MS, PUSHER_WEBHOOK_SETTINGS } from '../pusher.constants.js';
import type { PusherEventContext } from './on-pusher-event.decorator.js';
import { brandClass } from '../core/brand.js';
import { deliveryIdOf } from './pusher-webhook-delivery.js';

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
  /** Usable events in the webhook. */
  events: number;
  /** Handler runs (one per matching handler per event). */
  handlerRuns: number;
  failures: PusherEventHandlerFailure[];
  /** Events of the webhook that were malformed or undecryptable, reached no handler and were logged. */
  rejectedEvents: number;
  /** True when this delivery was handled before (a redelivery or a replay): no handler ran. */
  duplicate: boolean;
}

/** Options of `dispatch()`. */
export interface PusherWebhookDispatchOptions {
  /**
   * The delivery's id for duplicate suppression (`webhookDeliveryId(rawBody)`). Payloads verified by
   * `PusherWebhookGuard` carry theirs already; without an id no duplicate is suppressed.
   */
  deliveryId?: string;
}

/**
 * `dispatch()` rejects with this when the handlers did not settle within `handlerTimeoutMs`; they keep running, and
 * the delivery stays claimed until they settle (completed on success, released on failure).
 */
export class PusherWebhookTimeoutError extends Error {
  static {
    brandClass(this, 'PusherWebhookTimeoutError');
  }
  override name = 'PusherWebhookTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly pendingHandlers: readonly string[],
  ) {
    super(
      `Pusher webhook handlers did not finish within ${timeoutMs} ms (webhooks.handlerTimeoutMs): ` +
        `${pendingHandlers.join(', ') || 'unknown'} still running; the delivery stays claimed until they settle ` +
        '(redeliveries meanwhile answer "in progress"), then counts as handled if they succeeded, else runs again.',
    );
  }
}

/** `dispatch()` rejects with this when another request (maybe on another replica) is handling the same delivery. */
export class PusherWebhookInProgressError extends Error {
  static {
    brandClass(this, 'PusherWebhookInProgressError');
  }
  override name = 'PusherWebhookInProgressError';
  constructor(readonly deliveryId: string) {
    super(
      `Pusher webhook delivery ${deliveryId.slice(0, 16)}… is being handled by another request; answer non-2xx so that it is delivered again later.`,
    );
  }
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
 * Hands every event of a verified webhook to every matching `@OnPusherEvent()` handler, once per delivery. Use it
 * from your own `@PusherWebhook()` route; the built-in webhook route uses it too.
 */
@Injectable()
export class PusherWebhookDispatcher implements OnApplicationShutdown {
  protected readonly logger = new Logger('PusherWebhookDispatcher');
  /** Handlers by event name, in registration order. Arrays are replaced, never changed, so a dispatch can iterate one safely. */
  private readonly handlersByEvent = new Map<string, readonly RegisteredHandler[]>();
  private readonly deliveryStore: WebhookDeliveryStore | undefined;
  /**
   * The store is this package's in-memory one, whose calls settle at once: a synchronous delivery then needs no
   * deadline timer. Any other store may hang (a network outage) and is bounded by `handlerTimeoutMs`.
   */
  private readonly storeSettlesAtOnce: boolean;
  private readonly handlerTimeoutMs: number;
  /** How long a handled delivery is remembered: as long as it would pass the freshness check. */
  private readonly rememberMs: number;
  /** Stops of the claim renewals of deliveries whose handlers still run. */
  private readonly renewals = new Set<() => void>();

  constructor(@Optional() @Inject(PUSHER_WEBHOOK_SETTINGS) options?: PusherWebhookSettings) {
    const webhooks = options?.webhooks ?? {};
    const timeout = webhooks.handlerTimeoutMs ?? DEFAULT_WEBHOOK_HANDLER_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw new PusherConfigurationError(
        `PusherModule option "webhooks.handlerTimeoutMs" must be a positive number of milliseconds, got ${describeOptionValue(timeout, optionSecrets(options))}.`,
        'webhooks.handlerTimeoutMs',
      );
    }
    const store = webhooks.deliveryStore;
    if (
      store !== undefined &&
      store !== false &&
      (store === null || typeof store !== 'object' || typeof store.claim !== 'function')
    ) {
      throw new PusherConfigurationError(
        'PusherModule option "webhooks.deliveryStore" must be false or a WebhookDeliveryStore ({ claim, complete, release }).',
        'webhooks.deliveryStore',
      );
    }
    this.handlerTimeoutMs = timeout;
    this.deliveryStore = store === false ? undefined : (store ?? new MemoryWebhookDeliveryStore());
    // The exact class, not a subclass: a subclass may override a method with one that waits.
    this.storeSettlesAtOnce =
      this.deliveryStore !== undefined &&
      Object.getPrototypeOf(this.deliveryStore) === MemoryWebhookDeliveryStore.prototype;
    this.rememberMs = webhookReplayWindowMs(options ?? {});
  }

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
   * concurrently. A failing handler is logged and does not stop the others. Rejected events of the payload (malformed
   * or undecryptable) are logged and skipped.
   *
   * Once per delivery: a delivery that was handled before resolves with `duplicate: true` and runs nothing; one being
   * handled elsewhere rejects with {@link PusherWebhookInProgressError}. Resolves with a summary when every handler
   * succeeded; rejects with {@link PusherWebhookDispatchError} when any failed, or {@link PusherWebhookTimeoutError}
   * when they took longer than `webhooks.handlerTimeoutMs`. A failed delivery is released, so that a route that
   * awaits it answers 5xx and Pusher's redelivery runs in full; after a timeout the delivery stays claimed (renewed)
   * until the handlers settle, so that a redelivery meanwhile is "in progress", not a second concurrent run.
   */
  async dispatch(
    payload: PusherWebhookPayload,
    options: PusherWebhookDispatchOptions = {},
  ): Promise<PusherWebhookDispatchResult> {
    const deliveryId = options.deliveryId ?? deliveryIdOf(payload);
    const store = deliveryId === undefined ? undefined : this.deliveryStore;
    const running = new Set<string>();
    if (store === undefined || deliveryId === undefined) {
      const outcome = this.runHandlers(payload, running);
      return isPromiseLike(outcome) ? this.withTimeout(outcome, running) : outcome;
    }

    const owner = nextClaimOwner();
    // The claim outlives the handlers' deadline a little, so that it expires by itself if this process dies; while
    // the handlers run it is renewed (stores with `renew`), also after a timeout answered 503.
    const claimTtlMs = this.handlerTimeoutMs + 1000;
    const claim = await store.claim(deliveryId, owner, claimTtlMs);
    const claimedAt = Date.now();
    if (claim === 'done') {
      this.logger.debug?.(`Skipped a Pusher webhook delivered before (${payload.events.length} events)`);
      return {
        events: payload.events.length,
        handlerRuns: 0,
        failures: [],
        rejectedEvents: payload.rejectedEvents?.length ?? 0,
        duplicate: true,
      };
    }
    if (claim === 'in-progress') throw new PusherWebhookInProgressError(deliveryId);
    let outcome: PusherWebhookDispatchResult | Promise<PusherWebhookDispatchResult>;
    try {
      outcome = this.runHandlers(payload, running);
    } catch (error) {
      const released = this.releaseClaim(store, deliveryId, owner).then(() => Promise.reject(error));
      return this.storeSettlesAtOnce ? released : this.withTimeout(released, running);
    }
    if (!isPromiseLike(outcome)) {
      // Every handler was synchronous and is done, so a timer could not have interrupted them. Only a store that may
      // hang (a shared one, over the network) still needs the deadline: the route must answer within it either way.
      const result = outcome;
      const completed = store.complete(deliveryId, owner, this.rememberMs).then(() => result);
      return this.storeSettlesAtOnce ? completed : this.withTimeout(completed, running);
    }
    const stopRenewing = this.keepClaimAlive(store, deliveryId, owner, claimTtlMs, claimedAt);
    // Settles the claim when the handlers settle, not when the route gives up on them: until then a redelivery is
    // "in progress" (409) rather than a second run beside this one.
    const settled = outcome.then(
      async (result) => {
        stopRenewing();
        await store.complete(deliveryId, owner, this.rememberMs);
        return result;
      },
      async (error: unknown) => {
        stopRenewing();
        await this.releaseClaim(store, deliveryId, owner);
        throw error;
      },
    );
    return this.withTimeout(settled, running);
  }

  /** Drops a failed delivery's claim, so that its redelivery runs in full. */
  private async releaseClaim(store: WebhookDeliveryStore, deliveryId: string, owner: string): Promise<void> {
    await store.release(deliveryId, owner).catch((releaseError: unknown) => {
      // The claim then expires by itself; until then redeliveries answer "in progress".
      this.logger.error(`Could not release a failed Pusher webhook delivery: ${String(releaseError)}`);
    });
  }

  /** Stops the claim renewals still running (their handlers hung): nothing of this module outlives app.close(). */
  onApplicationShutdown(): void {
    for (const stop of [...this.renewals]) stop();
  }

  /**
   * Renews `owner`'s claim every third of its TTL until the returned function is called; at once when the synchronous
   * part of the handlers already took that long (the renewals start after it).
   */
  private keepClaimAlive(
    store: WebhookDeliveryStore,
    deliveryId: string,
    owner: string,
    claimTtlMs: number,
    claimedAt: number,
  ): () => void {
    if (store.renew === undefined) return () => undefined;
    const renew = () => {
      store.renew!(deliveryId, owner, claimTtlMs).catch((error: unknown) => {
        this.logger.error(
          `Could not renew the claim of a Pusher webhook delivery still being handled: ${String(error)}`,
        );
      });
    };
    const every = Math.max(1, Math.floor(claimTtlMs / 3));
    if (Date.now() - claimedAt >= every) renew();
    const timer = setInterval(renew, every);
    // A hung handler must not keep the process (or app.close()) alive through this timer.
    timer.unref();
    const stop = () => {
      clearInterval(timer);
      this.renewals.delete(stop);
    };
    this.renewals.add(stop);
    return stop;
  }

  /**
   * `work`, or a {@link PusherWebhookTimeoutError} after `handlerTimeoutMs`. The work goes on after a timeout; a later
   * rejection is logged (handler failures once only: `runHandlers` logs them).
   */
  private withTimeout(
    work: Promise<PusherWebhookDispatchResult>,
    running: ReadonlySet<string>,
  ): Promise<PusherWebhookDispatchResult> {
    return new Promise<PusherWebhookDispatchResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        work.catch((error: unknown) => {
          // Handler failures are logged already; anything else (the store failing to record success) is not.
          if (!(error instanceof PusherWebhookDispatchError)) {
            this.logger.error(`A Pusher webhook delivery failed after its timeout: ${String(error)}`);
          }
        });
        reject(new PusherWebhookTimeoutError(this.handlerTimeoutMs, [...running]));
      }, this.handlerTimeoutMs);
      // A hung handler must not keep the process (or app.close()) alive through this timer.
      timer.unref();
      work.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * Runs the handlers; synchronous all the way (no promise) while every handler returns synchronously, a promise from
   * the first event with an asynchronous handler on. Throws (or rejects with) {@link PusherWebhookDispatchError}.
   */
  private runHandlers(
    payload: PusherWebhookPayload,
    running: Set<string>,
  ): PusherWebhookDispatchResult | Promise<PusherWebhookDispatchResult> {
    for (const rejected of payload.rejectedEvents ?? []) this.logRejectedEvent(rejected.reason);
    const result: PusherWebhookDispatchResult = {
      events: payload.events.length,
      handlerRuns: 0,
      failures: [],
      rejectedEvents: payload.rejectedEvents?.length ?? 0,
      duplicate: false,
    };
    return this.runEvents(payload, 0, { timeMs: payload.time_ms, payload }, result, running);
  }

  /** Runs the events from `from` on, event after event; the handlers of one event run concurrently. */
  private runEvents(
    payload: PusherWebhookPayload,
    from: number,
    context: PusherEventContext,
    result: PusherWebhookDispatchResult,
    running: Set<string>,
  ): PusherWebhookDispatchResult | Promise<PusherWebhookDispatchResult> {
    const { events } = payload;
    for (let eventIndex = from; eventIndex < events.length; eventIndex++) {
      const event = events[eventIndex]!;
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
            const label = `${handler.name} on ${event.name}`;
            running.add(label);
            (pending ??= []).push(
              Promise.resolve(outcome).then(
                () => void running.delete(label),
                (error: unknown) => {
                  running.delete(label);
                  (failed ??= [])[index] = { handler: handler.name, event, error };
                },
              ),
            );
          }
        } catch (error) {
          (failed ??= [])[index] = { handler: handler.name, event, error };
        }
      }
      if (pending !== undefined) {
        return Promise.all(pending).then(() => {
          if (failed !== undefined) this.recordFailures(event, failed, result);
          return this.runEvents(payload, eventIndex + 1, context, result, running);
        });
      }
      if (failed !== undefined) this.recordFailures(event, failed, result);
    }
    if (result.failures.length > 0) {
      throw new PusherWebhookDispatchError(result);
    }
    return result;
  }

  private recordFailures(
    event: PusherWebhookEvent,
    failed: ReadonlyArray<PusherEventHandlerFailure | undefined>,
    result: PusherWebhookDispatchResult,
  ): void {
    for (const failure of failed) {
      if (failure === undefined) continue;
      result.failures.push(failure);
      this.logFailure(failure.handler, event, failure.error);
    }
  }

  /** Logs one event that reached no handler because it is malformed or undecryptable. Never the event data. */
  protected logRejectedEvent(reason: string): void {
    this.logger.warn(`Skipped an event of an authentic Pusher webhook: ${reason}`);
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

/**
 * Owners of claims: unique in this process (a counter) and across replicas sharing a store (a random prefix drawn
 * once per process), without a random UUID per delivery.
 */
const CLAIM_OWNER_PREFIX = `${randomUUID()}:`;
let claimOwnerSequence = 0;
function nextClaimOwner(): string {
  return CLAIM_OWNER_PREFIX + (++claimOwnerSequence).toString(36);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
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
