import type { ChannelAttributes, TriggerBatchResult, TriggerResult } from './pusher.types.js';

/** One item of a `/batch_events` body, already validated and serialized (data is the string sent). */
export interface WireBatchEvent {
  name: string;
  data: string;
  channel: string;
  socket_id?: string;
  info?: string;
}

interface PendingTrigger {
  event: WireBatchEvent;
  resolve: (result: TriggerResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces single-channel triggers made in the same tick into `/batch_events` requests of up to `maxBatchSize`
 * events. Each caller gets its own result (`{channels: {[channel]: attributes}}` when it asked for `info`, the
 * matching element of the answer's `batch`) or, when a batch request fails, that request's error.
 */
export class TriggerBatcher {
  #queue: PendingTrigger[] = [];
  #scheduled: ReturnType<typeof setImmediate> | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly sendBatch: (batch: WireBatchEvent[]) => Promise<TriggerBatchResult>,
    private readonly maxBatchSize: number,
  ) {}

  /** Queues one event; resolves with this event's own result. */
  enqueue(event: WireBatchEvent): Promise<TriggerResult> {
    return new Promise<TriggerResult>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      // setImmediate (not a microtask) so that calls made across awaits within the same event-loop turn coalesce too.
      this.#scheduled ??= setImmediate(() => this.#drain());
    });
  }

  /** Events waiting for the next tick. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Sends everything queued now and waits until every batch request has settled. */
  async flush(): Promise<void> {
    this.#drain();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #drain(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    const queue = this.#queue;
    this.#queue = [];
    for (let start = 0; start < queue.length; start += this.maxBatchSize) {
      const group = queue.slice(start, start + this.maxBatchSize);
      const sent = this.#send(group);
      this.#inFlight.add(sent);
      void sent.finally(() => this.#inFlight.delete(sent));
    }
  }

  async #send(group: PendingTrigger[]): Promise<void> {
    let answer: TriggerBatchResult;
    try {
      answer = await this.sendBatch(group.map((pending) => pending.event));
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return;
    }
    const attributes: unknown = answer?.batch;
    group.forEach((pending, index) => {
      const element = Array.isArray(attributes) ? (attributes[index] as ChannelAttributes | undefined) : undefined;
      pending.resolve(
        pending.event.info !== undefined && element !== undefined && element !== null
          ? { channels: { [pending.event.channel]: element } }
          : {},
      );
    });
  }
}
