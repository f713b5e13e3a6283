/**
 * The recording transport behind `PusherTestingModule`: the real `PusherService` (validation, signing, encryption,
 * batching) in a `@nestjs/testing` module, what it records, the answers a test scripts, and assertion helpers that
 * catch a real mistake with a readable report.
 */
import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { PusherModule, PusherRequestError, PusherService, PusherValidationError } from 'nest-pusher';
import {
  PusherExpectationError,
  PusherRecorder,
  PusherTestingModule,
  overridePusherTransport,
  type PusherTestingModuleOptions,
} from 'nest-pusher/testing';

const MASTER_KEY_BASE64 = Buffer.alloc(32, 9).toString('base64');

/** The kind of code an app has: it triggers, and reacts to the API's failures. */
@Injectable()
class OrdersService {
  constructor(private readonly pusher: PusherService) {}

  /** Correct: `private-orders-{customer}`. */
  async ship(customer: string, orderId: number): Promise<'sent' | 'queued'> {
    try {
      await this.pusher.trigger(`private-orders-${customer}`, 'order-shipped', { orderId });
      return 'sent';
    } catch (error) {
      if (error instanceof PusherRequestError) return 'queued';
      throw error;
    }
  }

  /** The mistake a test should catch: a typo in the channel name. */
  async shipWithTypo(customer: string, orderId: number): Promise<void> {
    await this.pusher.trigger(`private-order-${customer}`, 'order-shipped', { orderId });
  }
}

let moduleRef: TestingModule | undefined;
afterEach(async () => {
  await moduleRef?.close();
  moduleRef = undefined;
});

async function compile(
  options: PusherTestingModuleOptions = {},
): Promise<{ orders: OrdersService; pusher: PusherService; recorder: PusherRecorder }> {
  moduleRef = await Test.createTestingModule({
    imports: [PusherTestingModule.forRoot({ webhookController: false, authController: false, ...options })],
    providers: [OrdersService],
  }).compile();
  return {
    orders: moduleRef.get(OrdersService),
    pusher: moduleRef.get(PusherService),
    recorder: moduleRef.get(PusherRecorder),
  };
}

describe('PusherTestingModule and PusherRecorder', () => {
  it('records a trigger decoded: channel, event, data parsed back, socket id, info', async () => {
    const { pusher, recorder } = await compile();
    await pusher.trigger(['a', 'b'], 'greet', { hello: 'world' }, { socketId: '12.34', info: ['subscription_count'] });
    expect(recorder.events).toEqual([
      {
        via: 'trigger',
        channels: ['a', 'b'],
        event: 'greet',
        data: { hello: 'world' },
        wireData: '{"hello":"world"}',
        encrypted: false,
        socketId: '12.34',
        info: ['subscription_count'],
      },
    ]);
    expect(recorder.calls[0]).toMatchObject({
      kind: 'trigger',
      method: 'POST',
      path: '/events',
      answer: { status: 200, body: '{}' },
    });
    expect(
      recorder.expectEvent({ channel: 'b', event: 'greet', data: { hello: 'world' }, socketId: '12.34' }).channels,
    ).toEqual(['a', 'b']);
  });

  it('catches a trigger on the wrong channel, and the report shows what was sent instead', async () => {
    const { orders, recorder } = await compile();
    await orders.shipWithTypo('42', 7);
    let report = '';
    try {
      recorder.expectEvent({ channel: 'private-orders-42', event: 'order-shipped', data: { orderId: 7 } });
    } catch (error) {
      expect(error).toBeInstanceOf(PusherExpectationError);
      report = (error as Error).message;
    }
    expect(report).toContain('found 0');
    expect(report).toContain('#1 trigger channel "private-order-42" event "order-shipped" data {"orderId":7}');
    expect(report).toContain('channel: expected "private-orders-42", got "private-order-42"');

    // The correct code passes the same assertion.
    await orders.ship('42', 7);
    expect(recorder.expectEvent({ channel: 'private-orders-42', data: { orderId: 7 } }).via).toBe('trigger');
  });

  it('reports a data difference by its path, and expectNoEvent names what matched', async () => {
    const { pusher, recorder } = await compile();
    await pusher.trigger('room', 'message', { from: { id: 'ann' }, text: 'hi' });
    expect(() => recorder.expectEvent({ data: { from: { id: 'bob' } } })).toThrow(
      'data.from.id: expected "bob", got "ann"',
    );
    expect(() => recorder.expectNoEvent({ event: /^mess/ })).toThrow(
      /Expected no Pusher event matching .* found 1:\n {2}#1 trigger channel "room"/,
    );
    expect(() => recorder.expectEvent({ channel: 'room' }, { times: 2 })).toThrow('Expected 2 Pusher event(s)');
    recorder.clear();
    expect(() => recorder.expectEvent({ channel: 'room' })).toThrow('(no event was sent)');
  });

  it('keeps the real validation: a bad call rejects before anything is recorded', async () => {
    const { pusher, recorder } = await compile();
    await expect(pusher.trigger('bad channel', 'e', {})).rejects.toBeInstanceOf(PusherValidationError);
    await expect(pusher.trigger('ok', 'e', 'x'.repeat(10_241))).rejects.toThrow(/10240/);
    expect(recorder.calls).toHaveLength(0);
  });

  it('decrypts what was sent on an encrypted channel; the wire only carries ciphertext', async () => {
    const { pusher, recorder } = await compile({ encryptionMasterKeyBase64: MASTER_KEY_BASE64 });
    await pusher.trigger('private-encrypted-vault', 'secret', { pin: '0000' });
    const event = recorder.expectEvent({ channel: 'private-encrypted-vault', data: { pin: '0000' }, encrypted: true });
    expect(event.wireData).not.toContain('0000');
    expect(Object.keys(JSON.parse(event.wireData) as object).sort()).toEqual(['ciphertext', 'nonce']);
  });

  it('records batching as the wire has it: same-tick triggers in one /batch_events call', async () => {
    const { pusher, recorder } = await compile({ batching: true });
    await Promise.all([pusher.trigger('a', 'one', 1), pusher.trigger('b', 'two', 'text')]);
    expect(recorder.calls.map((call) => call.kind)).toEqual(['triggerBatch']);
    expect(recorder.events.map(({ via, channels, event, data }) => ({ via, channels, event, data }))).toEqual([
      { via: 'triggerBatch', channels: ['a'], event: 'one', data: 1 },
      { via: 'triggerBatch', channels: ['b'], event: 'two', data: 'text' },
    ]);
  });

  it('decodes triggerBatch, sendToUser, terminateUserConnections and the queries', async () => {
    const { pusher, recorder } = await compile();
    await pusher.triggerBatch([
      { channel: 'x', name: 'e1', data: { n: 1 }, socketId: '1.2' },
      { channel: 'y', name: 'e2', data: 'plain' },
    ]);
    await pusher.sendToUser('ann', 'note', { text: 'hi' });
    await pusher.terminateUserConnections('bob');
    await pusher.channelsInfo({ prefixFilter: 'presence-', attributes: ['user_count'] });
    await pusher.channelInfo('presence-room', ['user_count']);
    await pusher.usersInfo('presence-room');
    expect(recorder.calls.map(({ kind, channel, userId, params }) => ({ kind, channel, userId, params }))).toEqual([
      { kind: 'triggerBatch', channel: undefined, userId: undefined, params: {} },
      { kind: 'sendToUser', channel: undefined, userId: undefined, params: {} },
      { kind: 'terminateUserConnections', channel: undefined, userId: 'bob', params: {} },
      {
        kind: 'channelsInfo',
        channel: undefined,
        userId: undefined,
        params: { filter_by_prefix: 'presence-', info: 'user_count' },
      },
      { kind: 'channelInfo', channel: 'presence-room', userId: undefined, params: { info: 'user_count' } },
      { kind: 'usersInfo', channel: 'presence-room', userId: undefined, params: {} },
    ]);
    recorder.expectEvent({ via: 'sendToUser', userId: 'ann', channels: ['#server-to-user-ann'], data: { text: 'hi' } });
    recorder.expectEvent({ via: 'triggerBatch', channel: 'x', socketId: '1.2' });
    recorder.expectCall({ kind: 'terminateUserConnections', userId: 'bob' });
    expect(() => recorder.expectCall({ kind: 'terminateUserConnections', userId: 'ann' })).toThrow(
      /none of 6 matches[\s\S]*#3 terminateUserConnections POST \/users\/bob\/terminate_connections\n {7}userId: expected "ann", got "bob"/,
    );
  });

  it('answers what the test scripts: query results, an error status, a timeout', async () => {
    const { orders, pusher, recorder } = await compile({ retry: false });
    recorder.answerAlways({ status: 200, body: { users: [{ id: 'ann' }, { id: 'bob' }] } }, 'usersInfo');
    expect(await pusher.usersInfo('presence-room')).toEqual({ users: [{ id: 'ann' }, { id: 'bob' }] });

    recorder.answerNext({ status: 500, body: 'internal error' }, 'trigger');
    expect(await orders.ship('1', 1)).toBe('queued');
    recorder.answerNext({ failure: 'timeout' });
    const timedOut = await pusher.trigger('a', 'e', {}).catch((error: unknown) => error);
    expect(timedOut).toMatchObject({ name: 'PusherRequestError', code: 'ETIMEDOUT' });
    expect((timedOut as Error).message).toContain('no complete answer within 10000 ms');
    // One-shot answers are used up: the next call succeeds, and every attempt was recorded.
    expect(await orders.ship('1', 1)).toBe('sent');
    expect(recorder.calls.map((call) => ('failure' in call.answer ? call.answer.failure : call.answer.status))).toEqual(
      [200, 500, 'timeout', 200],
    );
  });

  it('lets the client retry a scripted 429 with Retry-After, as against the real API', async () => {
    const { pusher, recorder } = await compile({ retry: { attempts: 2, minDelayMs: 1, maxDelayMs: 2000 } });
    recorder.answerNext({ status: 429, retryAfter: 0, body: 'Too many requests' }, (call) => call.kind === 'trigger');
    await pusher.trigger('a', 'e', {});
    expect(recorder.calls.map((call) => call.answer)).toEqual([
      { status: 429, body: 'Too many requests' },
      { status: 200, body: '{}' },
    ]);
    recorder.answerAlways({ status: 429, retryAfter: 0 });
    await expect(pusher.trigger('a', 'e', {})).rejects.toMatchObject({ status: 429 });
  });

  it('checks each request signature as the server would: a client with the wrong secret gets 401', async () => {
    const recorder = new PusherRecorder().configure({ appId: '1', key: 'k', secret: 'the-secret' });
    const { Pusher } = await import('nest-pusher/core');
    const wrong = new Pusher({ appId: '1', key: 'k', secret: 'another-secret', transport: recorder, retry: false });
    await expect(wrong.trigger('a', 'e', {})).rejects.toMatchObject({ status: 401 });
    const right = new Pusher({ appId: '1', key: 'k', secret: 'the-secret', transport: recorder });
    await right.trigger('a', 'e', {});
    expect(recorder.calls.map((call) => call.answer)).toMatchObject([{ status: 401 }, { status: 200 }]);
  });
});

describe('overridePusherTransport: an app module that imports PusherModule.forRootAsync itself', () => {
  @Module({
    imports: [
      PusherModule.forRootAsync({
        useFactory: async () => ({ appId: '9', key: 'app-key', secret: 'app-secret', batching: true }),
        webhookController: false,
        authController: false,
      }),
    ],
    providers: [OrdersService],
  })
  class AppModule {}

  it('records with the app options (batching included); nothing is sent', async () => {
    const recorder = new PusherRecorder();
    moduleRef = await overridePusherTransport(Test.createTestingModule({ imports: [AppModule] }), recorder).compile();
    await moduleRef.get(OrdersService).ship('7', 3);
    recorder.expectEvent({ channel: 'private-orders-7', via: 'triggerBatch', data: { orderId: 3 } });
    expect(recorder.calls[0]!.answer).toEqual({ status: 200, body: '{}' });
  });
});
