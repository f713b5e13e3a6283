import { describe, expect, it } from '@jest/globals';
import { Pusher } from '../../../lib/core/pusher.js';
import {
  PusherChunkedTriggerError,
  PusherRequestError,
  PusherValidationError,
} from '../../../lib/core/pusher.errors.js';
import type { BatchEvent } from '../../../lib/core/pusher.types.js';
import { MAX_BATCH_SIZE, MAX_CHANNELS_PER_TRIGGER } from '../../../lib/core/rules.js';
import { FakeTransport, json, type RecordedRequest } from './fake-transport.js';

const SECRET = 'the-app-secret-0123';

function setup(transport = new FakeTransport()) {
  return { pusher: new Pusher({ appId: '77', key: 'app-key', secret: SECRET, transport, retry: false }), transport };
}

const channelsOf = (request: RecordedRequest) => (JSON.parse(request.body!) as { channels: string[] }).channels;
const batchOf = (request: RecordedRequest) =>
  (JSON.parse(request.body!) as { batch: Array<{ channel: string }> }).batch;
const names = (count: number, prefix = 'user-') => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
const batchEvents = (count: number): BatchEvent[] =>
  names(count, 'c-').map((channel, index) => ({ channel, name: 'ev', data: { index } }));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('Pusher.triggerInChunks', () => {
  it('sends 250 channels as /events requests of 100, 100 and 50, and resolves with one result per chunk', async () => {
    const { pusher, transport } = setup(
      new FakeTransport((request) => json(200, { channels: { [channelsOf(request)[0]!]: { subscription_count: 1 } } })),
    );
    const channels = names(250);

    const chunks = await pusher.triggerInChunks(
      channels,
      'notice',
      { text: 'hi' },
      { socketId: '1.2', info: ['subscription_count'] },
    );

    expect(transport.requests.map((request) => request.pathname)).toEqual([
      '/apps/77/events',
      '/apps/77/events',
      '/apps/77/events',
    ]);
    expect(transport.requests.flatMap(channelsOf)).toEqual(channels);
    expect(transport.requests.map((request) => channelsOf(request).length)).toEqual([
      MAX_CHANNELS_PER_TRIGGER,
      MAX_CHANNELS_PER_TRIGGER,
      50,
    ]);
    for (const request of transport.requests) {
      expect(JSON.parse(request.body!)).toMatchObject({
        name: 'notice',
        data: '{"text":"hi"}',
        socket_id: '1.2',
        info: 'subscription_count',
      });
    }
    expect(chunks).toEqual([
      { index: 0, start: 0, end: 100, result: { channels: { 'user-0': { subscription_count: 1 } } } },
      { index: 1, start: 100, end: 200, result: { channels: { 'user-100': { subscription_count: 1 } } } },
      { index: 2, start: 200, end: 250, result: { channels: { 'user-200': { subscription_count: 1 } } } },
    ]);
  });

  it('sends the chunks concurrently: every request is out before the first answer', async () => {
    const answers: Array<() => void> = [];
    const transport = new FakeTransport(() => new Promise((resolve) => answers.push(() => resolve(json(200, {})))));
    const { pusher } = setup(transport);

    const sent = pusher.triggerInChunks(names(301), 'ev', 'x');
    // The fourth request is issued while none of the first three has an answer.
    await new Promise<void>((resolve) => {
      const check = (): void => (answers.length === 4 ? resolve() : void setImmediate(check));
      check();
    });
    answers.forEach((answer) => answer());
    await expect(sent).resolves.toHaveLength(4);
  });

  it('reports which chunks failed and which were accepted when one chunk is refused (nothing silently lost)', async () => {
    const transport = new FakeTransport((request) =>
      channelsOf(request)[0] === 'user-100' ? json(500, { error: 'boom in the middle' }) : json(200, {}),
    );
    const { pusher } = setup(transport);

    const error = await rejection(pusher.triggerInChunks(names(250), 'ev', 'x'));

    expect(error).toBeInstanceOf(PusherChunkedTriggerError);
    const chunked = error as PusherChunkedTriggerError;
    expect(chunked.failed).toHaveLength(1);
    expect(chunked.failed[0]).toMatchObject({ index: 1, start: 100, end: 200 });
    expect(chunked.failed[0]!.error).toBeInstanceOf(PusherRequestError);
    expect((chunked.failed[0]!.error as PusherRequestError).status).toBe(500);
    expect(chunked.succeeded).toEqual([
      { index: 0, start: 0, end: 100, result: {} },
      { index: 2, start: 200, end: 250, result: {} },
    ]);
    expect(chunked.message).toContain('1 of 3 chunks failed');
    expect(chunked.message).toContain('chunk 1 (channels 100-199)');
    expect(chunked.message).toContain('boom in the middle');
    expect(chunked.message).toContain('Chunks accepted: 0, 2');
    expect(chunked.message).not.toContain(SECRET);
    // Every chunk was sent: the failure of one does not stop the others.
    expect(transport.requests).toHaveLength(3);
  });

  it('reports every failed chunk, including transport failures, when several fail', async () => {
    const transport = new FakeTransport((request) => {
      const first = channelsOf(request)[0];
      if (first === 'user-0') return Promise.reject(new Error('socket hang up'));
      return first === 'user-200' ? json(403, { error: 'over quota' }) : json(200, {});
    });
    const { pusher } = setup(transport);

    const error = (await rejection(pusher.triggerInChunks(names(300), 'ev', 'x'))) as PusherChunkedTriggerError;

    expect(error.failed.map((chunk) => chunk.index)).toEqual([0, 2]);
    expect(error.succeeded.map((chunk) => chunk.index)).toEqual([1]);
    expect(error.message).toContain('2 of 3 chunks failed');
    expect(error.message).toContain('over quota');
  });

  it('validates every channel, the event, the options and the data before sending anything', async () => {
    const { pusher, transport } = setup();
    const badLast = [...names(250), 'bad channel!'];
    const cases: Array<[Promise<unknown>, string]> = [
      [pusher.triggerInChunks(badLast, 'ev', 'x'), 'channel-name-charset'],
      [pusher.triggerInChunks([...names(150), 'user-3'], 'ev', 'x'), 'channels-duplicate'],
      [pusher.triggerInChunks([...names(150), 'private-encrypted-x'], 'ev', 'x'), 'encrypted-channel-alone'],
      [pusher.triggerInChunks([], 'ev', 'x'), 'channels-required'],
      [pusher.triggerInChunks('one-channel' as unknown as string[], 'ev', 'x'), 'channels-required'],
      [pusher.triggerInChunks(names(150), 'pusher:reserved', 'x'), 'event-name-reserved'],
      [pusher.triggerInChunks(names(150), 'ev', 'x', { socket_id: '1.2' } as never), 'trigger-options'],
      [pusher.triggerInChunks(names(150), 'ev', 'x'.repeat(20_000)), 'payload-size'],
    ];
    for (const [promise, rule] of cases) {
      const error = await rejection(promise);
      expect(error).toBeInstanceOf(PusherValidationError);
      expect({ rule: (error as PusherValidationError).rule }).toEqual({ rule });
    }
    expect(transport.requests).toHaveLength(0);
  });

  it('leaves trigger() limited to 100 channels, pointing at triggerInChunks', async () => {
    const { pusher, transport } = setup();
    const error = (await rejection(
      pusher.trigger(names(MAX_CHANNELS_PER_TRIGGER + 1), 'ev', 'x'),
    )) as PusherValidationError;
    expect(error.rule).toBe('channels-count');
    expect(error.message).toContain('triggerInChunks');
    expect(transport.requests).toHaveLength(0);
  });
});

describe('Pusher.triggerBatchInChunks', () => {
  it('sends 25 events as /batch_events requests of 10, 10 and 5, in order, one result per chunk', async () => {
    const transport = new FakeTransport((request) => json(200, { batch: batchOf(request).map(() => ({})) }));
    const { pusher } = setup(transport);
    const events = batchEvents(25);

    const chunks = await pusher.triggerBatchInChunks(events);

    expect(transport.requests.map((request) => request.pathname)).toEqual(Array(3).fill('/apps/77/batch_events'));
    expect(transport.requests.map((request) => batchOf(request).length)).toEqual([MAX_BATCH_SIZE, MAX_BATCH_SIZE, 5]);
    expect(transport.requests.flatMap(batchOf).map((item) => item.channel)).toEqual(
      events.map((event) => event.channel),
    );
    expect(chunks.map(({ index, start, end }) => ({ index, start, end }))).toEqual([
      { index: 0, start: 0, end: 10 },
      { index: 1, start: 10, end: 20 },
      { index: 2, start: 20, end: 25 },
    ]);
    expect(chunks[2]!.result).toEqual({ batch: [{}, {}, {}, {}, {}] });
  });

  it('names the failed chunk by event positions and lists the accepted ones', async () => {
    const transport = new FakeTransport((request) =>
      batchOf(request)[0]!.channel === 'c-20' ? json(413, { error: 'too big' }) : json(200, {}),
    );
    const { pusher } = setup(transport);

    const error = (await rejection(pusher.triggerBatchInChunks(batchEvents(25)))) as PusherChunkedTriggerError;

    expect(error).toBeInstanceOf(PusherChunkedTriggerError);
    expect(error.failed.map(({ index, start, end }) => ({ index, start, end }))).toEqual([
      { index: 2, start: 20, end: 25 },
    ]);
    expect(error.succeeded.map((chunk) => chunk.index)).toEqual([0, 1]);
    expect(error.message).toContain('chunk 2 (events 20-24)');
  });

  it('validates every event before sending anything', async () => {
    const { pusher, transport } = setup();
    const events = batchEvents(25);
    events[23] = { channel: 'c-23', name: 'ev', data: 'x', socket_id: '1.2' } as unknown as BatchEvent;

    const error = (await rejection(pusher.triggerBatchInChunks(events))) as PusherValidationError;

    expect(error).toBeInstanceOf(PusherValidationError);
    expect(error.message).toContain('Batch event #23');
    expect(transport.requests).toHaveLength(0);
    await expect(pusher.triggerBatchInChunks([])).rejects.toMatchObject({ rule: 'batch-required' });
  });

  it('leaves triggerBatch() limited to 10 events, pointing at triggerBatchInChunks', async () => {
    const { pusher, transport } = setup();
    const error = (await rejection(pusher.triggerBatch(batchEvents(MAX_BATCH_SIZE + 1)))) as PusherValidationError;
    expect(error.rule).toBe('batch-size');
    expect(error.message).toContain('triggerBatchInChunks');
    expect(transport.requests).toHaveLength(0);
  });
});
