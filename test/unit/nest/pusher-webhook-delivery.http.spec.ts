/**
 * Issue 15 over real HTTP on Express and Fastify: the freshness window is on by default, a handled delivery is not
 * handled again, a failed one is retried in full, one bad event does not sink a batch, a hung handler gets a 503 and
 * does not hold app.close(), and webhooks signed with an additional key pair are accepted.
 */
import './support/nest-app.js';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  type ClientEventWebhookEvent,
  type MemberAddedEvent,
  OnPusherEvent,
  type PusherEventContext,
  MemoryWebhookDeliveryStore,
  PusherModule,
  PusherWebhookDispatcher,
  type PusherWebhookEvent,
  type PusherWebhookPayload,
  PusherWebhookTimeoutError,
  verifyWebhook,
  webhookDeliveryId,
} from 'nest-pusher';
import { deliveryIdOf, rememberDeliveryId } from '../../../lib/webhooks/pusher-webhook-delivery.js';
import {
  APP,
  captureLogs,
  type CapturedLogs,
  MASTER_KEY_BASE64,
  PLATFORMS,
  postJson,
  type RunningApp,
  signedWebhook,
  startApp,
} from './support/nest-app.js';

const handled: PusherWebhookEvent[] = [];
const failOnce = new Set<string>();

interface Gate {
  promise: Promise<void>;
  open(): void;
  fail(error: Error): void;
}
function gate(): Gate {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}
/** What the slow handler waits for; each run takes the gate in place when it starts. */
let slowGate: Gate = gate();
let slowRuns = 0;

/** The default store, telling the test when a delivery's claim was settled (completed or released) or renewed. */
class SignallingStore extends MemoryWebhookDeliveryStore {
  settled = gate();
  renewed = gate();
  override async complete(deliveryId: string, owner: string, ttlMs: number): Promise<void> {
    await super.complete(deliveryId, owner, ttlMs);
    this.settled.open();
  }
  override async release(deliveryId: string, owner: string): Promise<void> {
    await super.release(deliveryId, owner);
    this.settled.open();
  }
  override async renew(deliveryId: string, owner: string, claimTtlMs: number): Promise<boolean> {
    const renewed = await super.renew(deliveryId, owner, claimTtlMs);
    this.renewed.open();
    return renewed;
  }
}

@Injectable()
class Recorder {
  @OnPusherEvent(['channel_occupied', 'member_added', 'client_event'])
  onEvent(event: PusherWebhookEvent, _context: PusherEventContext): void {
    if (failOnce.delete(event.channel)) throw new Error(`first delivery on ${event.channel} fails`);
    handled.push(event);
  }

  @OnPusherEvent('channel_vacated', { channel: 'private-slow' })
  slow(): Promise<void> {
    slowRuns++;
    return slowGate.promise;
  }

  @OnPusherEvent('channel_vacated', { channel: 'private-hang' })
  hang(): Promise<void> {
    // Never settles.
    return new Promise(() => undefined);
  }
}

const occupied = (channel: string) => ({ name: 'channel_occupied', channel });

let logs: CapturedLogs;
let running: RunningApp | undefined;
beforeEach(() => {
  handled.length = 0;
  failOnce.clear();
  slowGate = gate();
  slowRuns = 0;
  logs = captureLogs();
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  logs.restore();
});

describe.each(PLATFORMS)('webhook deliveries on %s', (platform) => {
  // With the summary answer, so that a test can see what the route decided (`duplicate`, `rejectedEvents`).
  const start = (options: Parameters<typeof PusherModule.forRoot>[0] = APP) =>
    startApp(platform, {
      imports: [PusherModule.forRoot({ webhookController: { summary: true }, ...options })],
      providers: [Recorder],
    }).then((app) => (running = app));

  it('refuses an old webhook by default (stale, 401), however often it is replayed, and runs no handler', async () => {
    const { url } = await start();
    const { body, headers } = signedWebhook({ time_ms: Date.UTC(2020, 0, 1), events: [occupied('private-old')] });
    for (let replay = 0; replay < 50; replay++) {
      const response = await postJson(`${url}/pusher/webhooks`, body, headers);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { reason: string }).reason).toBe('stale');
    }
    expect(handled).toEqual([]);
  });

  it('handles a delivery once: the same signed body replayed inside the window runs no handler and answers 200', async () => {
    const { url } = await start();
    const { body, headers } = signedWebhook({ time_ms: Date.now(), events: [occupied('private-a')] });
    const answers = [];
    for (let replay = 0; replay < 3; replay++) {
      const response = await postJson(`${url}/pusher/webhooks`, body, headers);
      expect(response.status).toBe(200);
      answers.push(await response.json());
    }
    expect(handled.map((event) => event.channel)).toEqual(['private-a']);
    expect(answers.map((answer) => (answer as { duplicate: boolean }).duplicate)).toEqual([false, true, true]);
    // Another body (another time_ms) is another delivery.
    const next = signedWebhook({ time_ms: Date.now() + 1, events: [occupied('private-a')] });
    expect((await postJson(`${url}/pusher/webhooks`, next.body, next.headers)).status).toBe(200);
    expect(handled).toHaveLength(2);
  });

  it('retries a failed delivery (500) in full, then suppresses it once it succeeded', async () => {
    const { url } = await start();
    failOnce.add('private-flaky');
    const { body, headers } = signedWebhook({
      time_ms: Date.now(),
      events: [occupied('private-a'), occupied('private-flaky')],
    });
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(500);
    expect(handled.map((event) => event.channel)).toEqual(['private-a']);
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(200);
    expect(handled.map((event) => event.channel)).toEqual(['private-a', 'private-a', 'private-flaky']);
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(200);
    expect(handled).toHaveLength(3);
  });

  it('with deliveryStore: false, every replay inside the window runs the handlers (opt-out works)', async () => {
    const { url } = await start({ ...APP, webhooks: { deliveryStore: false } });
    const { body, headers } = signedWebhook({ time_ms: Date.now(), events: [occupied('private-a')] });
    await postJson(`${url}/pusher/webhooks`, body, headers);
    await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(handled).toHaveLength(2);
  });

  it.each([
    [
      'a client_event without data',
      { name: 'client_event', channel: 'private-chat', event: 'client-x', socket_id: '1.1' },
    ],
    [
      'an undecryptable client_event on an encrypted channel',
      {
        name: 'client_event',
        channel: 'private-encrypted-chat',
        event: 'client-x',
        data: '{"nonce":"AAAA","ciphertext":"AAAA"}',
        socket_id: '1.1',
      },
    ],
    ['a member_added without user_id', { name: 'member_added', channel: 'presence-room' }],
  ])('a signed 100-event batch with %s delivers the other 99 and answers 200', async (_label, poison) => {
    const { url } = await start({ ...APP, encryptionMasterKeyBase64: MASTER_KEY_BASE64 });
    const events: unknown[] = [];
    for (let index = 0; index < 96; index++) {
      events.push(
        index % 2 === 0
          ? occupied(`private-${index}`)
          : { name: 'member_added', channel: 'presence-room', user_id: `user ${index} é` },
      );
    }
    // Arbitrary client data, `__proto__` included, is an ordinary event on both platforms.
    events.push({
      name: 'client_event',
      channel: 'private-chat',
      event: 'client-x',
      data: JSON.parse('{"__proto__":{"polluted":true}}'),
      socket_id: '1.1',
    });
    events.splice(40, 0, poison);
    events.push(occupied('private-last'), occupied('private-very-last'));
    expect(events).toHaveLength(100);
    const { body, headers } = signedWebhook({ time_ms: Date.now(), events });
    const response = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ events: 99, rejectedEvents: 1, duplicate: false });
    expect(handled).toHaveLength(99);
    expect(handled).toEqual(
      events
        .filter((event) => event !== poison)
        .map((event) => expect.objectContaining({ channel: (event as { channel: string }).channel })),
    );
    const clientEvent = handled.find((event): event is ClientEventWebhookEvent => event.name === 'client_event')!;
    expect(clientEvent.data).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(handled.filter((event): event is MemberAddedEvent => event.name === 'member_added')[0]!.user_id).toBe(
      'user 1 é',
    );
    expect(logs.lines('warn').join('\n')).toContain(
      'Skipped an event of an authentic Pusher webhook: Webhook event #40',
    );
  });

  it('answers 503 when a handler hangs past handlerTimeoutMs, and app.close() still completes', async () => {
    const { url } = await start({ ...APP, webhooks: { handlerTimeoutMs: 300 } });
    const { body, headers } = signedWebhook({
      time_ms: Date.now(),
      events: [{ name: 'channel_vacated', channel: 'private-hang' }],
    });
    const response = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(response.status).toBe(503);
    expect(logs.lines('error').join('\n')).toContain('Recorder.hang on channel_vacated still running');
    // The handler still runs, so the delivery stays claimed: Pusher's redelivery is told to come back later.
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(409);
    await running!.close();
    running = undefined;
  });

  it.each([
    ['succeeded', 1],
    ['failed', 2],
  ])('after a 503 keeps the delivery claimed (409) until the handlers settle, which %s', async (outcome, runs) => {
    const store = new SignallingStore();
    const { url } = await start({ ...APP, webhooks: { handlerTimeoutMs: 100, deliveryStore: store } });
    const { body, headers } = signedWebhook({
      time_ms: Date.now(),
      events: [{ name: 'channel_vacated', channel: 'private-slow' }],
    });
    const first = slowGate;
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(503);
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(409);
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(409);
    slowGate = gate();
    slowGate.open(); // a later run finishes at once
    if (outcome === 'succeeded') first.open();
    else first.fail(new Error('slow handler failed'));
    await store.settled.promise;
    // Succeeded: a duplicate, nothing runs again. Failed: released, the redelivery runs in full.
    const redelivery = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(redelivery.status).toBe(200);
    expect(((await redelivery.json()) as { duplicate: boolean }).duplicate).toBe(outcome === 'succeeded');
    expect(slowRuns).toBe(runs);
  });

  it('accepts a webhook signed with an additional key pair (key rotation), and refuses an unknown key', async () => {
    const { url } = await start({ ...APP, additionalKeys: [{ key: 'next-key', secret: 'next-secret-never-log' }] });
    const rotated = signedWebhook(
      { time_ms: Date.now(), events: [occupied('private-rotated')] },
      { key: 'next-key', secret: 'next-secret-never-log' },
    );
    expect((await postJson(`${url}/pusher/webhooks`, rotated.body, rotated.headers)).status).toBe(200);
    const unknown = signedWebhook(
      { time_ms: Date.now(), events: [occupied('private-x')] },
      { key: 'other-key', secret: 'next-secret-never-log' },
    );
    expect((await postJson(`${url}/pusher/webhooks`, unknown.body, unknown.headers)).status).toBe(401);
    expect(handled.map((event) => event.channel)).toEqual(['private-rotated']);
  });
});

describe('PusherWebhookDispatcher replay window', () => {
  it('remembers a delivery dated up to the clock skew in the future for as long as its body stays acceptable', async () => {
    let now = 1_700_000_000_000;
    const store = new MemoryWebhookDeliveryStore({ now: () => now });
    const dispatcher = new PusherWebhookDispatcher({ ...APP, webhooks: { deliveryStore: store } });
    let runs = 0;
    dispatcher.addHandler({ events: ['member_added'], name: 'count', handle: () => void runs++ });
    // The sender's clock is 59 s ahead of ours: inside the default 60 s of skew.
    const { body, headers } = signedWebhook({
      time_ms: now + 59_000,
      events: [{ name: 'member_added', channel: 'presence-x', user_id: '1' }],
    });
    const deliver = async (): Promise<string> => {
      let payload: PusherWebhookPayload;
      try {
        const verifier = { key: APP.key, secret: APP.secret, maxAgeMs: 300_000, now: () => now };
        payload = verifyWebhook(verifier, {
          key: headers['x-pusher-key'],
          signature: headers['x-pusher-signature'],
          body,
        });
      } catch {
        return 'refused';
      }
      return (await dispatcher.dispatch(payload, { deliveryId: webhookDeliveryId(body) })).duplicate
        ? 'duplicate'
        : 'handled';
    };
    const answers = [await deliver()];
    // Replays until the body is too old to pass: the last accepted moment is time_ms + 5 min + 60 s.
    for (const later of [200_000, 161_000, 58_000]) {
      now += later;
      answers.push(await deliver());
    }
    now += 1;
    answers.push(await deliver());
    expect(answers).toEqual(['handled', 'duplicate', 'duplicate', 'duplicate', 'refused']);
    expect(runs).toBe(1);
  });
});

describe('PusherWebhookDispatcher claim renewal', () => {
  it('renews the claim of a delivery whose handlers outlive the claim TTL, so that it does not expire under them', async () => {
    let now = 0;
    const store = new SignallingStore({ now: () => now });
    const dispatcher = new PusherWebhookDispatcher({
      ...APP,
      webhooks: { handlerTimeoutMs: 30, deliveryStore: store },
    });
    const slow = gate();
    dispatcher.addHandler({ events: ['channel_vacated'], name: 'slow', handle: () => slow.promise });
    const payload = { time_ms: 0, events: [{ name: 'channel_vacated' as const, channel: 'private-x' }] };
    await expect(dispatcher.dispatch(payload, { deliveryId: 'd' })).rejects.toThrow(/stays claimed until they settle/);
    // The claim was made for handlerTimeoutMs + 1 s: move the clock near its end, then wait for a renewal.
    now = 1000;
    await store.renewed.promise;
    now = 2000;
    expect(await store.claim('d', 'other', 10)).toBe('in-progress');
    slow.open();
    await store.settled.promise;
    expect(await store.claim('d', 'other', 10)).toBe('done');
    dispatcher.onApplicationShutdown();
  });

  it('logs a store that fails to record success after the route answered 503', async () => {
    class FailingStore extends SignallingStore {
      override async complete(): Promise<void> {
        this.settled.open();
        throw new Error('store down');
      }
    }
    const store = new FailingStore();
    const dispatcher = new PusherWebhookDispatcher({
      ...APP,
      webhooks: { handlerTimeoutMs: 30, deliveryStore: store },
    });
    const slow = gate();
    dispatcher.addHandler({ events: ['channel_vacated'], name: 'slow', handle: () => slow.promise });
    const payload = { time_ms: 0, events: [{ name: 'channel_vacated' as const, channel: 'private-x' }] };
    await expect(dispatcher.dispatch(payload, { deliveryId: 'd' })).rejects.toThrow(/did not finish within 30 ms/);
    slow.open();
    await store.settled.promise;
    // One turn of the event loop: the rejection reaches the logger through promise callbacks only.
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.lines('error').join('\n')).toContain(
      'A Pusher webhook delivery failed after its timeout: Error: store down',
    );
  });
});

describe('PusherWebhookDispatcher with synchronous handlers', () => {
  it('claims, runs and completes a delivery without a timeout timer or a renewal interval', async () => {
    const store = new MemoryWebhookDeliveryStore();
    const dispatcher = new PusherWebhookDispatcher({ ...APP, webhooks: { deliveryStore: store } });
    const runs: string[] = [];
    dispatcher.addHandler({ events: ['member_added'], name: 'sync', handle: (event) => void runs.push(event.channel) });
    const payload = { time_ms: 0, events: [{ name: 'member_added' as const, channel: 'presence-x', user_id: '1' }] };
    const timeouts = jest.spyOn(globalThis, 'setTimeout');
    const intervals = jest.spyOn(globalThis, 'setInterval');
    try {
      const result = await dispatcher.dispatch(payload, { deliveryId: 'sync-1' });
      expect(result).toMatchObject({ handlerRuns: 1, duplicate: false });
      expect(timeouts).not.toHaveBeenCalled();
      expect(intervals).not.toHaveBeenCalled();
    } finally {
      timeouts.mockRestore();
      intervals.mockRestore();
    }
    expect(runs).toEqual(['presence-x']);
    expect(await store.claim('sync-1', 'other', 10)).toBe('done');
  });

  it('still bounds a delivery whose later event has an asynchronous handler', async () => {
    const dispatcher = new PusherWebhookDispatcher({ ...APP, webhooks: { handlerTimeoutMs: 30 } });
    const order: string[] = [];
    const hung = gate();
    dispatcher.addHandler({ events: ['member_added'], name: 'sync', handle: () => void order.push('sync') });
    dispatcher.addHandler({
      events: ['member_removed'],
      name: 'hung',
      handle: () => {
        order.push('async');
        return hung.promise;
      },
    });
    const payload = {
      time_ms: 0,
      events: [
        { name: 'member_added' as const, channel: 'presence-x', user_id: '1' },
        { name: 'member_removed' as const, channel: 'presence-x', user_id: '1' },
      ],
    };
    await expect(dispatcher.dispatch(payload, { deliveryId: 'mixed-1' })).rejects.toThrow(/hung on member_removed/);
    expect(order).toEqual(['sync', 'async']);
    hung.open();
    dispatcher.onApplicationShutdown();
  });
});

describe('PusherWebhookDispatcher with a store that hangs', () => {
  class HangingStore extends MemoryWebhookDeliveryStore {
    constructor(private readonly hang: 'complete' | 'release') {
      super();
    }
    override complete(deliveryId: string, owner: string, ttlMs: number): Promise<void> {
      return this.hang === 'complete' ? new Promise(() => undefined) : super.complete(deliveryId, owner, ttlMs);
    }
    override release(deliveryId: string, owner: string): Promise<void> {
      return this.hang === 'release' ? new Promise(() => undefined) : super.release(deliveryId, owner);
    }
  }
  const payload = { time_ms: 0, events: [{ name: 'member_added' as const, channel: 'presence-x', user_id: '1' }] };

  it('still answers within handlerTimeoutMs when recording a synchronous success never finishes', async () => {
    const dispatcher = new PusherWebhookDispatcher({
      ...APP,
      webhooks: { handlerTimeoutMs: 30, deliveryStore: new HangingStore('complete') },
    });
    dispatcher.addHandler({ events: ['member_added'], name: 'sync', handle: () => undefined });
    await expect(dispatcher.dispatch(payload, { deliveryId: 'hang-1' })).rejects.toThrow(PusherWebhookTimeoutError);
  });

  it('still answers within handlerTimeoutMs when releasing a synchronous failure never finishes', async () => {
    const dispatcher = new PusherWebhookDispatcher({
      ...APP,
      webhooks: { handlerTimeoutMs: 30, deliveryStore: new HangingStore('release') },
    });
    dispatcher.addHandler({
      events: ['member_added'],
      name: 'throws',
      handle: () => {
        throw new Error('handler failed');
      },
    });
    await expect(dispatcher.dispatch(payload, { deliveryId: 'hang-2' })).rejects.toThrow(PusherWebhookTimeoutError);
  });
});

describe('PusherWebhookDispatcher claim renewal after a long synchronous part', () => {
  it('renews at once when the handlers took a third of the claim TTL before they returned their promise', async () => {
    const store = new SignallingStore();
    const renew = jest.spyOn(store, 'renew');
    const dispatcher = new PusherWebhookDispatcher({
      ...APP,
      webhooks: { handlerTimeoutMs: 2000, deliveryStore: store },
    });
    const done = gate();
    let clock = Date.now();
    const now = jest.spyOn(Date, 'now').mockImplementation(() => clock);
    dispatcher.addHandler({
      events: ['member_added'],
      name: 'slow start',
      handle: () => {
        // The synchronous part takes half of the claim's TTL (handlerTimeoutMs + 1 s) before the promise comes back.
        clock += 1500;
        return done.promise;
      },
    });
    try {
      const dispatched = dispatcher.dispatch(
        { time_ms: 0, events: [{ name: 'member_added', channel: 'presence-x', user_id: '1' }] },
        { deliveryId: 'slow-start' },
      );
      // A few microtask turns (the claim is awaited), far less than the 1000 ms renewal interval.
      for (let turn = 0; turn < 10 && renew.mock.calls.length === 0; turn++) await Promise.resolve();
      expect(renew).toHaveBeenCalledWith('slow-start', expect.any(String), 3000);
      done.open();
      await dispatched;
    } finally {
      now.mockRestore();
      dispatcher.onApplicationShutdown();
    }
  });
});

describe('delivery ids on verified payloads', () => {
  it('are kept for a frozen payload, and not inherited by an object made from one', () => {
    const frozen = Object.freeze({ time_ms: 1, events: [] });
    rememberDeliveryId(frozen, 'frozen-id');
    expect(deliveryIdOf(frozen)).toBe('frozen-id');
    const open = { time_ms: 2, events: [] };
    rememberDeliveryId(open, 'open-id');
    expect(deliveryIdOf(open)).toBe('open-id');
    expect(deliveryIdOf(Object.create(open) as typeof open)).toBeUndefined();
    expect(Object.keys(open)).toEqual(['time_ms', 'events']);
  });
});
