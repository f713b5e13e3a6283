/**
 * The Nest layer end to end, on Express and on Fastify: a Nest app with `PusherModule.forRoot()` (built-in auth and
 * webhook routes, an authorizer, `@OnPusherEvent()` handlers), a real soketi whose webhooks point at the app, and
 * real pusher-js clients that authorize through the app's `/pusher/auth` and `/pusher/user-auth`.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  OnPusherEvent,
  PusherModule,
  PusherService,
  type ChannelOccupiedEvent,
  type ChannelVacatedEvent,
  type ClientEventWebhookEvent,
  type MemberAddedEvent,
  type MemberRemovedEvent,
  type PusherAuthorizer,
  type PusherChannelAuthorization,
  type PusherEventContext,
  type PusherUserAuthentication,
  type PusherWebhookEvent,
} from 'nest-pusher';
import {
  connectClient,
  disconnectAllClients,
  type PresenceChannel,
  type TestClient,
} from '../support/pusher-client.js';
import { freeTcpPort, randomApp, startTestSoketi, type TestSoketi } from '../support/soketi.js';
import { waitFor } from '../support/wait.js';

/** The test app's idea of a logged-in user: a header the pusher-js clients send with their auth requests. */
const USER_HEADER = 'x-test-user';
const REFUSED_USER = 'mallory';

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
}

function userOf(request: unknown): string | undefined {
  const value = (request as HttpRequestLike).headers[USER_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

@Injectable()
class TestAuthorizer implements PusherAuthorizer {
  readonly channelRequests: Array<{ socketId: string; channel: string; user: string | undefined }> = [];

  authorizeChannel({
    socketId,
    channel,
    request,
  }: {
    socketId: string;
    channel: string;
    request: unknown;
  }): PusherChannelAuthorization {
    const user = userOf(request);
    this.channelRequests.push({ socketId, channel, user });
    if (user === undefined || user === REFUSED_USER) return false;
    return channel.startsWith('presence-') ? { user_id: user, user_info: { name: user.toUpperCase() } } : true;
  }

  async authenticateUser({ request }: { socketId: string; request: unknown }): Promise<PusherUserAuthentication> {
    const user = userOf(request);
    if (user === undefined || user === REFUSED_USER) return false;
    return { id: user, user_info: { name: user.toUpperCase() } };
  }
}

interface RecordedEvent {
  handler: string;
  event: PusherWebhookEvent;
  timeMs: number;
}

/** Records every webhook event its `@OnPusherEvent()` handlers receive. */
@Injectable()
class WebhookRecorder {
  readonly received: RecordedEvent[] = [];

  @OnPusherEvent('channel_occupied')
  @OnPusherEvent('channel_vacated')
  onChannelLifecycle(event: ChannelOccupiedEvent | ChannelVacatedEvent, context: PusherEventContext): void {
    this.received.push({ handler: 'lifecycle', event, timeMs: context.timeMs });
  }

  @OnPusherEvent(['member_added', 'member_removed'], { channel: /^presence-/ })
  onMembership(event: MemberAddedEvent | MemberRemovedEvent, context: PusherEventContext): void {
    this.received.push({ handler: 'membership', event, timeMs: context.timeMs });
  }

  @OnPusherEvent('client_event')
  onClientEvent(event: ClientEventWebhookEvent, context: PusherEventContext): void {
    this.received.push({ handler: 'client', event, timeMs: context.timeMs });
  }

  find(handler: string, predicate: (event: PusherWebhookEvent) => boolean): RecordedEvent | undefined {
    return this.received.find((entry) => entry.handler === handler && predicate(entry.event));
  }

  onChannel(channel: string): RecordedEvent[] {
    return this.received.filter((entry) => entry.event.channel === channel);
  }
}

const PLATFORMS = ['express', 'fastify'] as const;

describe.each(PLATFORMS)('nest-pusher on %s, end to end with soketi and pusher-js', (platform) => {
  const credentials = randomApp();
  let app: INestApplication;
  let appUrl: string;
  let soketi: TestSoketi;
  let recorder: WebhookRecorder;
  let authorizer: TestAuthorizer;
  let pusher: PusherService;

  /** Unique per platform run and test, so that webhooks of one test never satisfy another's expectations. */
  function channel(prefix: string): string {
    return `${prefix}${platform}-${randomBytes(4).toString('hex')}`;
  }

  function client(user: string | undefined): Promise<TestClient> {
    return connectClient(
      { host: soketi.host, port: soketi.port, key: credentials.key },
      {
        channelAuthEndpoint: `${appUrl}/pusher/auth`,
        userAuthEndpoint: `${appUrl}/pusher/user-auth`,
        ...(user === undefined ? {} : { authHeaders: { [USER_HEADER]: user } }),
      },
    );
  }

  function webhook<T extends RecordedEvent>(description: string, find: () => T | undefined): Promise<T> {
    return waitFor(find, {
      description: `${description} (webhooks so far: ${JSON.stringify(recorder.received.map((r) => r.event))})`,
    });
  }

  beforeAll(async () => {
    // The app must know soketi's port when it is created, and soketi must know the app's port when it starts:
    // reserve soketi's port, start the app on port 0, then start soketi on the reserved port.
    const soketiPort = await freeTcpPort();

    @Module({
      imports: [
        PusherModule.forRoot({
          ...credentials,
          host: '127.0.0.1',
          port: soketiPort,
          useTLS: false,
          timeout: 5000,
          maxPayloadBytes: 100 * 1024,
          encryptionMasterKeyBase64: randomBytes(32).toString('base64'),
          authorizer: TestAuthorizer,
        }),
      ],
      providers: [WebhookRecorder],
    })
    class AppModule {}

    app =
      platform === 'express'
        ? await NestFactory.create(AppModule, { rawBody: true, logger: ['error'] })
        : await NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true, logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    appUrl = `http://127.0.0.1:${port}`;
    recorder = app.get(WebhookRecorder);
    authorizer = app.get(TestAuthorizer);
    pusher = app.get(PusherService);

    soketi = await startTestSoketi({ ...credentials, port: soketiPort, webhookUrl: `${appUrl}/pusher/webhooks` });
  });

  afterAll(async () => {
    await disconnectAllClients();
    await soketi?.stop();
    await app?.close();
  });

  it('authorizes a private channel through /pusher/auth; soketi accepts the signature and events arrive', async () => {
    const name = channel('private-orders-');
    const alice = await client('alice');

    const subscribed = await alice.subscribe(name);
    const events = alice.record(subscribed, 'order-shipped');
    await pusher.trigger(name, 'order-shipped', { id: 42 });

    expect(await events.next()).toEqual({ id: 42 });
    expect(authorizer.channelRequests).toContainEqual({ socketId: alice.socketId, channel: name, user: 'alice' });
    await webhook('channel_occupied', () =>
      recorder.find('lifecycle', (event) => event.name === 'channel_occupied' && event.channel === name),
    );
  });

  it('refuses the user the authorizer refuses: subscription errors with 403, and sign-in is refused', async () => {
    const mallory = await client(REFUSED_USER);

    const privateError = await mallory.subscribeExpectingError(channel('private-orders-'));
    expect(privateError).toMatchObject({ type: 'AuthError', status: 403 });
    const presenceError = await mallory.subscribeExpectingError(channel('presence-room-'));
    expect(presenceError).toMatchObject({ type: 'AuthError', status: 403 });
    const encryptedError = await mallory.subscribeExpectingError(channel('private-encrypted-vault-'));
    expect(encryptedError).toMatchObject({ type: 'AuthError', status: 403 });

    const signinError = await mallory.signinExpectingError();
    expect(signinError).toMatchObject({ status: 403 });

    const anonymous = await client(undefined);
    expect(await anonymous.subscribeExpectingError(channel('private-orders-'))).toMatchObject({ status: 403 });
  });

  it('runs a presence channel: members visible, and member_added / member_removed / channel_vacated reach the handlers', async () => {
    const name = channel('presence-room-');
    const alice = await client('alice');
    const bob = await client('bob');

    const aliceChannel = await alice.subscribe<PresenceChannel>(name);
    const bobChannel = await bob.subscribe<PresenceChannel>(name);
    expect(bobChannel.members.count).toBe(2);
    expect(bobChannel.members.me).toEqual({ id: 'bob', info: { name: 'BOB' } });
    expect(bobChannel.members.get('alice')).toEqual({ id: 'alice', info: { name: 'ALICE' } });

    const occupied = await webhook('channel_occupied', () =>
      recorder.find('lifecycle', (event) => event.name === 'channel_occupied' && event.channel === name),
    );
    expect(occupied.timeMs).toEqual(expect.any(Number));
    for (const user of ['alice', 'bob']) {
      const added = await webhook(`member_added ${user}`, () =>
        recorder.find(
          'membership',
          (event) => event.name === 'member_added' && event.channel === name && event.user_id === user,
        ),
      );
      expect(added.event).toEqual({ name: 'member_added', channel: name, user_id: user });
    }

    const leftRoom = alice.record(aliceChannel, 'pusher:member_removed');
    await bob.disconnect();
    expect(await leftRoom.next()).toMatchObject({ id: 'bob' });
    await webhook('member_removed bob', () =>
      recorder.find(
        'membership',
        (event) => event.name === 'member_removed' && event.channel === name && event.user_id === 'bob',
      ),
    );
    expect(
      recorder.find('lifecycle', (event) => event.name === 'channel_vacated' && event.channel === name),
    ).toBeUndefined();

    await alice.disconnect();
    await webhook('member_removed alice', () =>
      recorder.find(
        'membership',
        (event) => event.name === 'member_removed' && event.channel === name && event.user_id === 'alice',
      ),
    );
    const vacated = await webhook('channel_vacated', () =>
      recorder.find('lifecycle', (event) => event.name === 'channel_vacated' && event.channel === name),
    );
    expect(vacated.event).toEqual({ name: 'channel_vacated', channel: name });
    // The membership handler's channel filter (/^presence-/) kept it to presence channels; lifecycle got no member events.
    expect(
      recorder
        .onChannel(name)
        .filter((entry) => entry.handler === 'lifecycle')
        .map((entry) => entry.event.name)
        .sort(),
    ).toEqual(['channel_occupied', 'channel_vacated']);
  });

  it('authorizes a private-encrypted channel (shared_secret from the auth route); pusher-js decrypts what PusherService sends', async () => {
    const name = channel('private-encrypted-vault-');
    const alice = await client('alice');
    const onTheWire: unknown[] = [];
    alice.pusher.connection.bind('message', (message: { event: string; channel?: string; data?: unknown }) => {
      if (message.channel === name && message.event === 'balance') onTheWire.push(message.data);
    });

    const subscribed = await alice.subscribe(name);
    const events = alice.record(subscribed, 'balance');
    await pusher.trigger(name, 'balance', { amount: 1234, note: 'plaintext-marker' });

    expect(await events.next()).toEqual({ amount: 1234, note: 'plaintext-marker' });
    expect(JSON.stringify(onTheWire)).not.toContain('plaintext-marker');
    expect(onTheWire).toHaveLength(1);
  });

  it('signs in through /pusher/user-auth and receives sendToUser events', async () => {
    const userId = `carol-${platform}-${randomBytes(3).toString('hex')}`;
    const carol = await client(userId);

    expect(await carol.signin()).toEqual({ id: userId, user_info: { name: userId.toUpperCase() } });
    await carol.userChannelReady();
    const notices: unknown[] = [];
    carol.pusher.user.bind('notice', (data: unknown) => notices.push(data));

    await pusher.sendToUser(userId, 'notice', { text: 'signed in' });

    await waitFor(() => notices.length > 0, { description: 'the sendToUser event' });
    expect(notices).toEqual([{ text: 'signed in' }]);
  });

  it('hands client events to the client_event handler, with the sender and (on presence) the user', async () => {
    const privateName = channel('private-chat-');
    const presenceName = channel('presence-chat-');
    const alice = await client('alice');
    const bob = await client('bob');
    const alicePrivate = await alice.subscribe(privateName);
    const bobPrivate = await bob.subscribe(privateName);
    const alicePresence = await alice.subscribe<PresenceChannel>(presenceName);
    await bob.subscribe(presenceName);
    const typing = bob.record(bobPrivate, 'client-typing');

    expect(alicePrivate.trigger('client-typing', { typing: true })).toBe(true);
    expect(await typing.next()).toEqual({ typing: true });
    const privateEvent = await webhook('client_event on the private channel', () =>
      recorder.find('client', (event) => event.name === 'client_event' && event.channel === privateName),
    );
    expect(privateEvent.event).toMatchObject({
      name: 'client_event',
      channel: privateName,
      event: 'client-typing',
      socket_id: alice.socketId,
    });
    expect(JSON.parse((privateEvent.event as ClientEventWebhookEvent).data)).toEqual({ typing: true });

    expect(alicePresence.trigger('client-wave', { to: 'bob' })).toBe(true);
    const presenceEvent = await webhook('client_event on the presence channel', () =>
      recorder.find('client', (event) => event.name === 'client_event' && event.channel === presenceName),
    );
    expect(presenceEvent.event).toMatchObject({
      name: 'client_event',
      channel: presenceName,
      event: 'client-wave',
      socket_id: alice.socketId,
      user_id: 'alice',
    });
  });

  it('answers 401 to forged webhooks on the built-in route, and none reaches a handler', async () => {
    const forgedChannel = channel('forged-');
    const body = JSON.stringify({
      time_ms: Date.now(),
      events: [{ name: 'channel_occupied', channel: forgedChannel }],
    });
    const sign = (secret: string, payload: string): string =>
      createHmac('sha256', secret).update(payload).digest('hex');
    const post = (headers: Record<string, string>, payload = body): Promise<Response> =>
      fetch(`${appUrl}/pusher/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: payload,
      });

    const forgeries: Array<[string, Record<string, string>, string?]> = [
      ['wrong secret', { 'x-pusher-key': credentials.key, 'x-pusher-signature': sign('not-the-secret', body) }],
      ['no signature', { 'x-pusher-key': credentials.key }],
      ['another key', { 'x-pusher-key': 'someone-else', 'x-pusher-signature': sign(credentials.secret, body) }],
      [
        'signature of another body',
        {
          'x-pusher-key': credentials.key,
          'x-pusher-signature': sign(credentials.secret, body.replace('forged-', 'other-')),
        },
      ],
    ];
    for (const [what, headers, payload] of forgeries) {
      const response = await post(headers, payload);
      expect({ what, status: response.status }).toEqual({ what, status: 401 });
    }

    // The positive control: the same body, signed with the app's secret, is accepted and handled.
    const genuine = await post({
      'x-pusher-key': credentials.key,
      'x-pusher-signature': sign(credentials.secret, body),
    });
    expect(genuine.status).toBeGreaterThanOrEqual(200);
    expect(genuine.status).toBeLessThan(300);
    const handled = recorder.onChannel(forgedChannel);
    expect(handled).toHaveLength(1);
    expect(handled[0]!.event).toEqual({ name: 'channel_occupied', channel: forgedChannel });
  });
});
