/**
 * The core client against a real Pusher-protocol server (soketi, which checks every request signature) and the real
 * browser client (pusher-js, its Node build): every HTTP call, and events arriving on public, private, presence and
 * end-to-end encrypted channels and to a signed-in user.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Pusher, PusherRequestError, type PresenceData } from 'nest-pusher/core';
import {
  connectClient,
  disconnectAllClients,
  type Channel,
  type PresenceChannel,
  type TestClient,
  type TestClientOptions,
} from '../support/pusher-client.js';
import { startTestSoketi, type TestSoketi } from '../support/soketi.js';
import { waitFor } from '../support/wait.js';

let soketi: TestSoketi;
let pusher: Pusher;

/** A channel name no other test uses (soketi keeps one app for the whole file). */
function uniqueChannel(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** pusher-js's channel authorization answered by the core client (no HTTP server involved). */
function coreAuthorizer(member?: PresenceData): Pick<TestClientOptions, 'channelAuthorizer'> {
  return {
    channelAuthorizer: ({ socketId, channelName }, callback) => {
      try {
        callback(
          null,
          pusher.authorizeChannel(socketId, channelName, channelName.startsWith('presence-') ? member : undefined),
        );
      } catch (error) {
        callback(error as Error, null);
      }
    },
  };
}

/** pusher-js's user authentication answered by the core client. */
function coreAuthenticator(userId: string): Pick<TestClientOptions, 'userAuthenticator'> {
  return {
    userAuthenticator: ({ socketId }, callback) => {
      try {
        callback(null, pusher.authenticateUser(socketId, { id: userId, user_info: { name: `User ${userId}` } }));
      } catch (error) {
        callback(error as Error, null);
      }
    },
  };
}

function client(options: TestClientOptions = {}): Promise<TestClient> {
  return connectClient({ host: soketi.host, port: soketi.port, key: soketi.app.key }, options);
}

beforeAll(async () => {
  soketi = await startTestSoketi();
  pusher = new Pusher({
    appId: soketi.app.appId,
    key: soketi.app.key,
    secret: soketi.app.secret,
    host: soketi.host,
    port: soketi.port,
    useTLS: false,
    timeout: 5000,
    encryptionMasterKeyBase64: randomBytes(32).toString('base64'),
  });
});

afterEach(async () => {
  await disconnectAllClients();
});

afterAll(async () => {
  await disconnectAllClients();
  await pusher?.close();
  await soketi?.stop();
});

describe('core client against soketi: HTTP API', () => {
  it('triggers on one public channel and the pusher-js client receives the data', async () => {
    const channelName = uniqueChannel('public-');
    const alice = await client();
    const channel = await alice.subscribe(channelName);
    const greetings = alice.record(channel, 'greet');

    const result = await pusher.trigger(channelName, 'greet', { hello: 'world', n: 1 });

    expect(result).toEqual(expect.any(Object));
    expect(result).not.toHaveProperty('error');
    expect(await greetings.next()).toEqual({ hello: 'world', n: 1 });
  });

  it('triggers on several channels at once', async () => {
    const [first, second] = [uniqueChannel('multi-a-'), uniqueChannel('multi-b-')];
    const alice = await client();
    const events = [
      alice.record(await alice.subscribe(first), 'news'),
      alice.record(await alice.subscribe(second), 'news'),
    ];

    await pusher.trigger([first, second], 'news', 'plain string data');

    expect(await events[0]!.next()).toBe('plain string data');
    expect(await events[1]!.next()).toBe('plain string data');
  });

  it('excludes the connection named by socketId and only that one', async () => {
    const channelName = uniqueChannel('exclusion-');
    const sender = await client();
    const other = await client();
    const senderEvents = sender.record(await sender.subscribe(channelName), 'update');
    const otherEvents = other.record(await other.subscribe(channelName), 'update');

    await pusher.trigger(channelName, 'update', { seq: 1 }, { socketId: sender.socketId });
    expect(await otherEvents.next()).toEqual({ seq: 1 });

    // soketi delivers in order on a connection: once the sender has the second event, it would have had the first.
    await pusher.trigger(channelName, 'update', { seq: 2 });
    expect(await senderEvents.next()).toEqual({ seq: 2 });
    expect(await otherEvents.next()).toEqual({ seq: 2 });
    expect(senderEvents.received).toEqual([{ seq: 2 }]);
  });

  it('signs `info` into trigger and triggerBatch (soketi ignores the attributes but checks the signature)', async () => {
    const channelName = uniqueChannel('presence-info-trigger-');
    const alice = await client(coreAuthorizer({ user_id: 'alice' }));
    const events = alice.record(await alice.subscribe(channelName), 'counted');

    const single = await pusher.trigger(channelName, 'counted', { n: 1 }, { info: ['user_count'] });
    const batch = await pusher.triggerBatch([
      { channel: channelName, name: 'counted', data: { n: 2 }, info: ['user_count'] },
    ]);

    expect(single).not.toHaveProperty('error');
    expect(batch).not.toHaveProperty('error');
    expect(await events.next()).toEqual({ n: 1 });
    expect(await events.next()).toEqual({ n: 2 });
  });

  it('triggerBatch delivers every item to its own channel, honouring socketId per item', async () => {
    const [first, second] = [uniqueChannel('batch-a-'), uniqueChannel('batch-b-')];
    const alice = await client();
    const bob = await client();
    const aliceFirst = alice.record(await alice.subscribe(first), 'item');
    const aliceSecond = alice.record(await alice.subscribe(second), 'item');
    const bobFirst = bob.record(await bob.subscribe(first), 'item');

    await pusher.triggerBatch([
      { channel: first, name: 'item', data: { n: 1 }, socketId: alice.socketId },
      { channel: second, name: 'item', data: { n: 2 } },
    ]);

    expect(await bobFirst.next()).toEqual({ n: 1 });
    expect(await aliceSecond.next()).toEqual({ n: 2 });
    await pusher.trigger(first, 'item', { n: 3 });
    expect(await aliceFirst.next()).toEqual({ n: 3 });
    expect(aliceFirst.received).toEqual([{ n: 3 }]);
  });

  it('lists occupied channels, with and without a prefix filter and user_count', async () => {
    const tag = randomBytes(4).toString('hex');
    const presenceName = `presence-list-${tag}`;
    const publicName = `list-${tag}`;
    const alice = await client(coreAuthorizer({ user_id: 'alice' }));
    await alice.subscribe(presenceName);
    await alice.subscribe(publicName);

    const all = await pusher.channelsInfo();
    expect(Object.keys(all.channels)).toEqual(expect.arrayContaining([presenceName, publicName]));

    const filtered = await pusher.channelsInfo({ prefixFilter: `presence-list-${tag}` });
    expect(Object.keys(filtered.channels)).toEqual([presenceName]);

    // soketi answers user_count requests without the attribute, but it verified the signature over `info`.
    const withCount = await pusher.channelsInfo({ prefixFilter: 'presence-list-', attributes: ['user_count'] });
    expect(Object.keys(withCount.channels)).toContain(presenceName);
    expect(Object.keys(withCount.channels)).not.toContain(publicName);
  });

  it('reads one channel: occupied, user_count and subscription_count', async () => {
    const presenceName = uniqueChannel('presence-info-');
    const privateName = uniqueChannel('private-info-');
    const alice = await client(coreAuthorizer({ user_id: 'alice' }));
    const bob = await client(coreAuthorizer({ user_id: 'bob' }));
    await alice.subscribe(presenceName);
    await bob.subscribe(presenceName);
    await alice.subscribe(privateName);

    const presence = await pusher.channelInfo(presenceName, ['user_count']);
    expect(presence).toMatchObject({ occupied: true, user_count: 2 });

    const privateInfo = await pusher.channelInfo(privateName, ['subscription_count']);
    expect(privateInfo).toMatchObject({ occupied: true, subscription_count: 1 });

    const empty = await pusher.channelInfo(uniqueChannel('nobody-here-'));
    expect(empty.occupied).toBe(false);
  });

  it('lists the members of a presence channel', async () => {
    const presenceName = uniqueChannel('presence-users-');
    const alice = await client(coreAuthorizer({ user_id: 'alice' }));
    const bob = await client(coreAuthorizer({ user_id: 'bob' }));
    await alice.subscribe(presenceName);
    await bob.subscribe(presenceName);

    const { users } = await pusher.usersInfo(presenceName);

    expect(users.map((user) => user.id).sort()).toEqual(['alice', 'bob']);
  });

  it('signs the get/post escape hatch', async () => {
    const channelName = uniqueChannel('escape-');
    const alice = await client();
    const events = alice.record(await alice.subscribe(channelName), 'raw');

    await pusher.post('/events', { name: 'raw', data: JSON.stringify({ via: 'post' }), channels: [channelName] });
    expect(await events.next()).toEqual({ via: 'post' });

    const listed = await pusher.get<{ channels: Record<string, unknown> }>('/channels', {
      filter_by_prefix: channelName,
    });
    expect(Object.keys(listed.channels)).toEqual([channelName]);

    const one = await pusher.get<{ occupied: boolean }>(`/channels/${channelName}`);
    expect(one.occupied).toBe(true);
  });

  it('rejects with a typed 401 PusherRequestError when the secret is wrong', async () => {
    const wrongSecret = `wrong-${randomBytes(8).toString('hex')}`;
    const impostor = new Pusher({
      appId: soketi.app.appId,
      key: soketi.app.key,
      secret: wrongSecret,
      host: soketi.host,
      port: soketi.port,
      useTLS: false,
      timeout: 5000,
    });
    try {
      // Resolving shows what came back, so a failure says what the client made of soketi's answer.
      const error = await impostor.trigger('any-channel', 'any-event', {}).then(
        (resolvedWith: unknown) => ({ resolvedWith }),
        (caught: unknown) => caught,
      );
      expect(error).toEqual(expect.any(PusherRequestError));
      const requestError = error as PusherRequestError;
      expect(requestError.status).toBe(401);
      expect(requestError.method).toBe('POST');
      expect(requestError.path).toContain('/events');
      expect(requestError.message).toContain('401');
      for (const text of [requestError.message, requestError.path, requestError.body, String(requestError.stack)]) {
        expect(text).not.toContain(wrongSecret);
        expect(text).not.toContain('auth_signature');
      }

      const readError = await impostor.channelsInfo().then(
        (resolvedWith: unknown) => ({ resolvedWith }),
        (caught: unknown) => caught,
      );
      expect(readError).toEqual(expect.any(PusherRequestError));
      expect((readError as PusherRequestError).status).toBe(401);
    } finally {
      await impostor.close();
    }
  });
});

describe('core client against soketi: pusher-js channels', () => {
  it('delivers to a private channel authorized by authorizeChannel', async () => {
    const channelName = uniqueChannel('private-room-');
    const alice = await client(coreAuthorizer());
    const events = alice.record(await alice.subscribe(channelName), 'secret-note');

    await pusher.trigger(channelName, 'secret-note', { text: 'for members only' });

    expect(await events.next()).toEqual({ text: 'for members only' });
  });

  it('refuses a private subscription whose signature is not ours', async () => {
    const channelName = uniqueChannel('private-forged-');
    const forger = new Pusher({
      appId: soketi.app.appId,
      key: soketi.app.key,
      secret: 'not-the-secret',
      host: soketi.host,
      port: soketi.port,
      useTLS: false,
    });
    try {
      const mallory = await client({
        channelAuthorizer: ({ socketId, channelName: name }, callback) =>
          callback(null, forger.authorizeChannel(socketId, name)),
      });
      const error = await mallory.subscribeExpectingError(channelName);
      expect(error.type).toBeDefined();
    } finally {
      await forger.close();
    }
  });

  it('delivers to a presence channel whose members are visible to each other', async () => {
    const channelName = uniqueChannel('presence-room-');
    const alice = await client(coreAuthorizer({ user_id: 'alice', user_info: { name: 'Alice' } }));
    const bob = await client(coreAuthorizer({ user_id: 'bob', user_info: { name: 'Bob' } }));
    const aliceChannel = await alice.subscribe<PresenceChannel>(channelName);
    const joined = alice.record<{ id: string; info: unknown }>(aliceChannel, 'pusher:member_added');
    const bobChannel = await bob.subscribe<PresenceChannel>(channelName);

    expect(await joined.next()).toEqual({ id: 'bob', info: { name: 'Bob' } });
    expect(bobChannel.members.count).toBe(2);
    expect(bobChannel.members.me).toEqual({ id: 'bob', info: { name: 'Bob' } });
    expect(bobChannel.members.get('alice')).toEqual({ id: 'alice', info: { name: 'Alice' } });

    const events = bob.record(bobChannel, 'announcement');
    await pusher.trigger(channelName, 'announcement', { text: 'hello room' });
    expect(await events.next()).toEqual({ text: 'hello room' });
  });

  it('delivers to a private-encrypted channel: soketi relays ciphertext, pusher-js decrypts with the shared_secret', async () => {
    const channelName = uniqueChannel('private-encrypted-vault-');
    const alice = await client(coreAuthorizer());
    const wire: unknown[] = [];
    alice.pusher.connection.bind('message', (message: { event: string; channel?: string; data?: unknown }) => {
      if (message.channel === channelName && message.event === 'vault-update') wire.push(message.data);
    });
    const channel: Channel = await alice.subscribe(channelName);
    const events = alice.record(channel, 'vault-update');

    await pusher.trigger(channelName, 'vault-update', { balance: 42, owner: 'alice-plaintext-marker' });

    expect(await events.next()).toEqual({ balance: 42, owner: 'alice-plaintext-marker' });
    expect(wire).toHaveLength(1);
    const onTheWire = JSON.stringify(wire[0]);
    expect(onTheWire).not.toContain('alice-plaintext-marker');
    const parsed = (typeof wire[0] === 'string' ? JSON.parse(wire[0]) : wire[0]) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['ciphertext', 'nonce']);
  });

  it('delivers a sendToUser event after signin(), and terminateUserConnections disconnects the user', async () => {
    const userId = `user-${randomBytes(4).toString('hex')}`;
    const carol = await client(coreAuthenticator(userId));
    const bystanderId = `other-${randomBytes(4).toString('hex')}`;
    const bystander = await client(coreAuthenticator(bystanderId));
    const signedIn = await carol.signin();
    expect(signedIn).toMatchObject({ id: userId });
    await bystander.signin();
    await carol.userChannelReady();
    await bystander.userChannelReady();

    const notices: unknown[] = [];
    carol.pusher.user.bind('notice', (data: unknown) => notices.push(data));
    await pusher.sendToUser(userId, 'notice', { text: 'just for you' });
    await waitFor(() => notices.length > 0, { description: 'the sendToUser event' });
    expect(notices).toEqual([{ text: 'just for you' }]);

    const dropped = carol.dropped();
    await pusher.terminateUserConnections(userId);
    expect(await dropped).not.toBe('connected');
    // Only that user's connections: the other signed-in user still gets events sent to it.
    const bystanderNotices: unknown[] = [];
    bystander.pusher.user.bind('notice', (data: unknown) => bystanderNotices.push(data));
    await pusher.sendToUser(bystanderId, 'notice', { text: 'still here' });
    await waitFor(() => bystanderNotices.length > 0, { description: 'the bystander to get its event' });
    expect(bystanderNotices).toEqual([{ text: 'still here' }]);
    expect(bystander.state).toBe('connected');
  });
});

describe('core client against soketi: past the protocol limits, in chunks', () => {
  it('triggerInChunks reaches channels in every chunk of a 250-channel trigger that soketi refuses whole', async () => {
    const tag = randomBytes(4).toString('hex');
    const channels = Array.from({ length: 250 }, (_, index) => `fanout-${tag}-${index}`);
    // One subscriber in each chunk (positions 0, 150 and 249), so that a lost chunk would show as a missing event.
    const watched = [channels[0]!, channels[150]!, channels[249]!];
    const alice = await client();
    const recorders = await Promise.all(
      watched.map(async (name) => alice.record(await alice.subscribe(name), 'notice')),
    );

    // The server's own limit: one request may not name 250 channels (soketi says so), so splitting is needed.
    await expect(pusher.post('/events', { name: 'notice', data: '{}', channels })).rejects.toBeInstanceOf(
      PusherRequestError,
    );

    const chunks = await pusher.triggerInChunks(channels, 'notice', { text: 'to everyone' });

    expect(chunks.map(({ start, end }) => [start, end])).toEqual([
      [0, 100],
      [100, 200],
      [200, 250],
    ]);
    for (const recorder of recorders) expect(await recorder.next()).toEqual({ text: 'to everyone' });
  });

  it('triggerBatchInChunks delivers all 25 events (three /batch_events requests) to their channels', async () => {
    const [first, second] = [uniqueChannel('batch-chunks-a-'), uniqueChannel('batch-chunks-b-')];
    const alice = await client();
    const firstEvents = alice.record(await alice.subscribe(first), 'item');
    const secondEvents = alice.record(await alice.subscribe(second), 'item');
    const events = Array.from({ length: 25 }, (_, n) => ({
      channel: n % 2 === 0 ? first : second,
      name: 'item',
      data: { n },
    }));

    const chunks = await pusher.triggerBatchInChunks(events);

    expect(chunks).toHaveLength(3);
    const received = async (recorder: typeof firstEvents, count: number): Promise<unknown[]> => {
      const data: unknown[] = [];
      for (let index = 0; index < count; index++) data.push(await recorder.next());
      return data;
    };
    const expected = (parity: number) =>
      events.filter((event) => event.data.n % 2 === parity).map((event) => event.data);
    // Chunks travel concurrently, so only the set is guaranteed across chunks.
    expect(await received(firstEvents, 13)).toEqual(expect.arrayContaining(expected(0)));
    expect(await received(secondEvents, 12)).toEqual(expect.arrayContaining(expected(1)));
  });
});
