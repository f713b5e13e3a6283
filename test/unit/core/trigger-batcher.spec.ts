import { describe, expect, it } from '@jest/globals';
import { Pusher } from '../../../lib/core/pusher.js';
import { PusherRequestError, PusherValidationError } from '../../../lib/core/pusher.errors.js';
import type { PusherOptions } from '../../../lib/core/pusher.options.js';
import { TriggerBatcher, type WireBatchEvent } from '../../../lib/core/trigger-batcher.js';
import { FakeTransport, json, type RecordedRequest } from './fake-transport.js';

type Item = { channel: string; name: string; data: string; info?: string; socket_id?: string };
const itemsOf = (request: RecordedRequest) => (JSON.parse(request.body!) as { batch: Item[] }).batch;

/** Answers a batch like Pusher: `batch` with one element per item (attributes only where info was asked). */
const batchAnswer = (request: RecordedRequest) =>
  json(200, { batch: itemsOf(request).map((item) => (item.info ? { user_count: Number(item.data) } : {})) });

function setup(options: Partial<PusherOptions> = {}, transport = new FakeTransport(batchAnswer)) {
  const pusher = new Pusher({ appId: '1', key: 'k', secret: 's', transport, batching: true, retry: false, ...options });
  return { pusher, transport };
}

describe('trigger batching', () => {
  it('coalesces same-tick single-channel triggers into one /batch_events request, in call order', async () => {
    const { pusher, transport } = setup();
    const results = await Promise.all([
      pusher.trigger('presence-a', 'e1', '5', { info: ['user_count'] }),
      pusher.trigger('b', 'e2', { n: 2 }, { socketId: '1.2' }),
      pusher.trigger(['presence-c'], 'e3', '7', { info: ['user_count'] }),
    ]);
    expect(transport.requests).toHaveLength(1);
    expect(transport.requests[0]!.pathname).toBe('/apps/1/batch_events');
    expect(itemsOf(transport.requests[0]!)).toEqual([
      { name: 'e1', data: '5', channel: 'presence-a', info: 'user_count' },
      { name: 'e2', data: '{"n":2}', channel: 'b', socket_id: '1.2' },
      { name: 'e3', data: '7', channel: 'presence-c', info: 'user_count' },
    ]);
    // Each caller gets its own element of `batch`, shaped like a trigger result.
    expect(results).toEqual([
      { channels: { 'presence-a': { user_count: 5 } } },
      {},
      { channels: { 'presence-c': { user_count: 7 } } },
    ]);
  });

  it('splits more than 10 events into requests of at most 10', async () => {
    const { pusher, transport } = setup();
    await Promise.all(Array.from({ length: 23 }, (_, i) => pusher.trigger(`c${i}`, 'ev', String(i))));
    expect(transport.requests.map((request) => itemsOf(request).length)).toEqual([10, 10, 3]);
    expect(transport.requests.flatMap(itemsOf).map((item) => item.data)).toEqual(
      Array.from({ length: 23 }, (_, i) => String(i)),
    );
  });

  it('honours maxBatchSize', async () => {
    const { pusher, transport } = setup({ batching: { maxBatchSize: 4 } });
    await Promise.all(Array.from({ length: 9 }, (_, i) => pusher.trigger(`c${i}`, 'ev', i)));
    expect(transport.requests.map((request) => itemsOf(request).length)).toEqual([4, 4, 1]);
  });

  it('rejects every caller of a failed batch request, and only them', async () => {
    let call = 0;
    const transport = new FakeTransport((request) =>
      ++call === 1 ? { status: 500, headers: {}, body: 'boom' } : batchAnswer(request),
    );
    const { pusher } = setup({ batching: { maxBatchSize: 2 } }, transport);
    const outcomes = await Promise.allSettled([
      pusher.trigger('a', 'ev', 1),
      pusher.trigger('b', 'ev', 2),
      pusher.trigger('c', 'ev', 3),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    const [first, second] = outcomes as PromiseRejectedResult[];
    expect(first!.reason).toBeInstanceOf(PusherRequestError);
    expect(first!.reason).toMatchObject({ status: 500 });
    expect(second!.reason).toBe(first!.reason);
  });

  it('lets multi-channel triggers bypass the batcher', async () => {
    const { pusher, transport } = setup({}, new FakeTransport());
    await pusher.trigger(['a', 'b'], 'ev', 1);
    expect(transport.requests[0]!.pathname).toBe('/apps/1/events');
  });

  it('rejects an invalid trigger on its own without disturbing the batch', async () => {
    const { pusher, transport } = setup();
    const outcomes = await Promise.allSettled([
      pusher.trigger('a', 'ev', 1),
      pusher.trigger('bad name', 'ev', 2),
      pusher.trigger('c', 'ev', 3),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(PusherValidationError);
    expect(itemsOf(transport.requests[0]!).map((item) => item.channel)).toEqual(['a', 'c']);
  });

  it('sends triggers of different ticks in different requests', async () => {
    const { pusher, transport } = setup();
    await pusher.trigger('a', 'ev', 1);
    await pusher.trigger('b', 'ev', 2);
    expect(transport.requests).toHaveLength(2);
  });

  it('encrypts batched data on encrypted channels', async () => {
    const { pusher, transport } = setup({ encryptionMasterKeyBase64: Buffer.alloc(32, 2).toString('base64') });
    await Promise.all([pusher.trigger('private-encrypted-a', 'ev', { s: 1 }), pusher.trigger('b', 'ev', 2)]);
    const [encrypted, plain] = itemsOf(transport.requests[0]!);
    expect(Object.keys(JSON.parse(encrypted!.data) as object).sort()).toEqual(['ciphertext', 'nonce']);
    expect(plain!.data).toBe('2');
  });

  it('close() flushes queued triggers before closing the transport', async () => {
    const { pusher, transport } = setup();
    const pending = pusher.trigger('a', 'ev', 1);
    await pusher.close();
    await expect(pending).resolves.toEqual({});
    expect(transport.requests).toHaveLength(1);
    expect(transport.closed).toBe(1);
  });
});

describe('TriggerBatcher', () => {
  it('answers {} to every caller when the server returns no batch array (soketi answers {"ok":true})', async () => {
    const sent: WireBatchEvent[][] = [];
    const batcher = new TriggerBatcher(async (batch) => {
      sent.push(batch);
      return { ok: true };
    }, 10);
    const results = await Promise.all([
      batcher.enqueue({ name: 'e', data: '1', channel: 'a', info: 'user_count' }),
      batcher.enqueue({ name: 'e', data: '2', channel: 'b' }),
    ]);
    expect(results).toEqual([{}, {}]);
    expect(sent).toHaveLength(1);
    expect(batcher.pending).toBe(0);
  });

  it('flush() sends at once and waits for the requests to settle', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let settled = false;
    const batcher = new TriggerBatcher(async () => {
      await gate;
      return {};
    }, 10);
    const result = batcher.enqueue({ name: 'e', data: '1', channel: 'a' }).then(() => (settled = true));
    const flushed = batcher.flush();
    expect(batcher.pending).toBe(0);
    release();
    await flushed;
    await result;
    expect(settled).toBe(true);
  });
});
