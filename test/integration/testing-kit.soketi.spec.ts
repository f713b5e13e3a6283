/**
 * Fidelity of `nest-pusher/testing`: what `PusherRecorder` records is what a real Pusher-protocol server (soketi)
 * receives and delivers. Every request the client makes goes, byte for byte, both to soketi and to the recorder; the
 * deliveries the recorder's decoded events predict (channel, event, data, socket exclusion, decryption) must equal
 * what real pusher-js clients receive, and the recorder must accept and refuse signatures as soketi does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  Pusher,
  UndiciTransport,
  type HttpTransport,
  type HttpTransportRequest,
  type HttpTransportResponse,
  type PresenceData,
} from 'nest-pusher/core';
import { PusherRecorder } from 'nest-pusher/testing';
import {
  connectClient,
  disconnectAllClients,
  type Channel,
  type TestClient,
  type TestClientOptions,
} from '../support/pusher-client.js';
import { startTestSoketi, type TestSoketi } from '../support/soketi.js';
import { waitFor } from '../support/wait.js';

let soketi: TestSoketi;
let pusher: Pusher;
let recorder: PusherRecorder;
const masterKey = randomBytes(32).toString('base64');
/** Each request's status from soketi and from the recorder. */
const verdicts: Array<{ call: string; soketi: number; recorder: number }> = [];

/** Sends every request to soketi and hands the very same request to the recorder. */
class TeeTransport implements HttpTransport {
  readonly enforcesDeadline = true;
  private readonly real = new UndiciTransport({});

  async request(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    const answer = await this.real.request(request);
    const recorded = await recorder.request(request);
    verdicts.push({
      call: `${request.method} ${request.path.split('?')[0]}`,
      soketi: effectiveStatus(answer),
      recorder: recorded.status,
    });
    return answer;
  }

  close(): Promise<void> {
    return this.real.close();
  }
}

/** soketi answers some errors (a bad signature among them) with 200 and `{"error", "code"}`. */
function effectiveStatus(answer: HttpTransportResponse): number {
  try {
    const parsed = JSON.parse(answer.body) as { error?: unknown; code?: unknown };
    if (typeof parsed.error === 'string' && typeof parsed.code === 'number') return parsed.code;
  } catch {
    // Not JSON: the status stands.
  }
  return answer.status;
}

const unique = (prefix: string): string => `${prefix}${randomBytes(4).toString('hex')}`;

function client(options: { member?: PresenceData; userId?: string } = {}): Promise<TestClient> {
  const auth: TestClientOptions = {
    channelAuthorizer: ({ socketId, channelName }, callback) =>
      callback(
        null,
        pusher.authorizeChannel(
          socketId,
          channelName,
          channelName.startsWith('presence-') ? options.member : undefined,
        ),
      ),
  };
  if (options.userId !== undefined) {
    const id = options.userId;
    auth.userAuthenticator = ({ socketId }, callback) => callback(null, pusher.authenticateUser(socketId, { id }));
  }
  return connectClient({ host: soketi.host, port: soketi.port, key: soketi.app.key }, auth);
}

interface Delivery {
  client: string;
  channel: string;
  event: string;
  data: unknown;
}

/** Everything a client receives on `channel`, decoded (and decrypted) by pusher-js. */
function listen(name: string, channel: Channel, into: Delivery[]): void {
  channel.bind_global((event: string, data: unknown) => {
    if (!event.startsWith('pusher:') && !event.startsWith('pusher_internal:'))
      into.push({ client: name, channel: channel.name, event, data });
  });
}

beforeAll(async () => {
  soketi = await startTestSoketi();
  const options = {
    appId: soketi.app.appId,
    key: soketi.app.key,
    secret: soketi.app.secret,
    encryptionMasterKeyBase64: masterKey,
  };
  recorder = new PusherRecorder().configure(options);
  pusher = new Pusher({
    ...options,
    host: soketi.host,
    port: soketi.port,
    useTLS: false,
    timeout: 5000,
    transport: new TeeTransport(),
  });
});

afterAll(async () => {
  await disconnectAllClients();
  await pusher?.close();
  await soketi?.stop();
});

describe('PusherRecorder against a real soketi, same requests', () => {
  it('predicts exactly what pusher-js clients receive, and accepts what soketi accepts', async () => {
    const [pubA, pubB, privateX, encryptedY, presenceZ] = [
      unique('pub-a-'),
      unique('pub-b-'),
      unique('private-x-'),
      unique('private-encrypted-y-'),
      unique('presence-z-'),
    ];
    const userId = unique('user-');
    const alice = await client({ userId });
    const bob = await client({ member: { user_id: 'bob' } });
    const subscribers = new Map<string, Array<{ name: string; socketId: string }>>();
    const received: Delivery[] = [];
    const subscribe = async (who: TestClient, name: string, channelName: string): Promise<void> => {
      listen(name, await who.subscribe(channelName), received);
      subscribers.set(channelName, [...(subscribers.get(channelName) ?? []), { name, socketId: who.socketId }]);
    };
    for (const channelName of [pubA, pubB, privateX, encryptedY]) await subscribe(alice, 'alice', channelName);
    await subscribe(bob, 'bob', pubA);
    await subscribe(bob, 'bob', presenceZ);
    await alice.signin();
    await alice.userChannelReady();
    const userChannel = alice.pusher.user.serverToUserChannel!;
    listen('alice', userChannel, received);
    subscribers.set(userChannel.name, [{ name: 'alice', socketId: alice.socketId }]);

    await pusher.trigger([pubA, pubB], 'multi', { n: 1, nested: { ok: true } });
    await pusher.trigger(pubA, 'not-to-alice', 'plain text', { socketId: alice.socketId });
    await pusher.triggerBatch([
      { channel: privateX, name: 'batched', data: { k: 1 } },
      { channel: presenceZ, name: 'batched', data: [1, 2, 3] },
    ]);
    await pusher.trigger(encryptedY, 'sealed', { pin: '1234' });
    await pusher.sendToUser(userId, 'note', { text: 'just for you' });
    await pusher.channelsInfo({ prefixFilter: 'presence-', attributes: ['user_count'] });
    await pusher.channelInfo(presenceZ, ['user_count']);
    await pusher.usersInfo(presenceZ);
    // Markers last: a connection receives in order, so once every marker is in, every earlier event would be too.
    for (const channelName of [pubA, pubB, privateX, encryptedY, presenceZ])
      await pusher.trigger(channelName, 'marker', 'end');
    await pusher.sendToUser(userId, 'marker', 'end');

    const expected: Delivery[] = recorder.events.flatMap((event) =>
      event.channels.flatMap((channelName) =>
        (subscribers.get(channelName) ?? [])
          .filter((subscriber) => subscriber.socketId !== event.socketId)
          .map((subscriber) => ({
            client: subscriber.name,
            channel: channelName,
            event: event.event,
            data: event.data,
          })),
      ),
    );
    await waitFor(() => received.filter((delivery) => delivery.event === 'marker').length === 7, {
      description: 'every marker to arrive',
    });
    const order = (deliveries: Delivery[]): string[] => deliveries.map((delivery) => JSON.stringify(delivery)).sort();
    expect(order(received)).toEqual(order(expected));
    expect(received).toContainEqual({ client: 'alice', channel: encryptedY, event: 'sealed', data: { pin: '1234' } });
    expect(received.filter((delivery) => delivery.event === 'not-to-alice')).toEqual([
      { client: 'bob', channel: pubA, event: 'not-to-alice', data: 'plain text' },
    ]);

    expect(recorder.calls.slice(5, 8).map(({ kind, channel, params }) => ({ kind, channel, params }))).toEqual([
      { kind: 'channelsInfo', channel: undefined, params: { filter_by_prefix: 'presence-', info: 'user_count' } },
      { kind: 'channelInfo', channel: presenceZ, params: { info: 'user_count' } },
      { kind: 'usersInfo', channel: presenceZ, params: {} },
    ]);

    const dropped = alice.dropped();
    await pusher.terminateUserConnections(userId);
    expect(await dropped).not.toBe('connected');
    recorder.expectCall({ kind: 'terminateUserConnections', userId });

    expect(verdicts.length).toBe(recorder.calls.length);
    expect(verdicts.filter((verdict) => verdict.soketi !== 200 || verdict.recorder !== 200)).toEqual([]);
  });

  it('refuses a wrong signature as soketi does', async () => {
    verdicts.length = 0;
    const forger = new Pusher({
      appId: soketi.app.appId,
      key: soketi.app.key,
      secret: 'not-the-secret',
      host: soketi.host,
      port: soketi.port,
      useTLS: false,
      retry: false,
      transport: new TeeTransport(),
    });
    await expect(forger.trigger(unique('pub-'), 'forged', {})).rejects.toMatchObject({ status: 401 });
    await forger.close();
    expect(verdicts).toEqual([{ call: `POST /apps/${soketi.app.appId}/events`, soketi: 401, recorder: 401 }]);
  });
});
