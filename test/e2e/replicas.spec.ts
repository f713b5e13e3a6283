/**
 * Several replicas on a clustered server, end to end: a real Redis, two soketi nodes sharing it through soketi's
 * Redis adapter, two replicas of a Nest app using this library (replica 1 calls node A's HTTP API, replica 2 node B's),
 * a round-robin proxy in front of the replicas (auth requests, webhooks and the app's own routes all go through it),
 * and pusher-js clients connected to either node. Everything is started and stopped here.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Inject, Injectable, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createHmac, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import {
  OnPusherEvent,
  PusherModule,
  PusherService,
  type PusherAuthorizer,
  type PusherChannelAuthorization,
  type PusherEventContext,
  type PusherUserAuthentication,
  type PusherWebhookEvent,
  type WebhookDeliveryStore,
} from 'nest-pusher';
import { MemoryWebhookDeliveryStore, RedisWebhookDeliveryStore } from 'nest-pusher/core';
import {
  connectClient,
  disconnectAllClients,
  type PresenceChannel,
  type TestClient,
} from '../support/pusher-client.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.js';
import { freeTcpPort, randomApp, startTestSoketi, type TestSoketi } from '../support/soketi.js';
import { waitFor } from '../support/wait.js';

const USER_HEADER = 'x-test-user';
const REPLICA = Symbol('replica name');
const credentials = randomApp();

/** What the replicas did, in one place so that the test sees across them. */
interface Authorization {
  replica: string;
  kind: 'private' | 'presence' | 'user';
  /** The channel, or the user id for a sign-in. */
  subject: string;
}
interface HandledWebhook {
  replica: string;
  event: PusherWebhookEvent;
}
const authorizations: Authorization[] = [];
const handledWebhooks: HandledWebhook[] = [];
/** Channels whose first webhook handler run fails (a handler hitting a transient error), across all replicas. */
const FAILING_ONCE_PREFIX = 'failing-once-';
const failedOnce = new Set<string>();

function userOf(request: unknown): string | undefined {
  const value = (request as { headers: Record<string, string | string[] | undefined> }).headers[USER_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

@Injectable()
class HeaderAuthorizer implements PusherAuthorizer {
  constructor(@Inject(REPLICA) private readonly replica: string) {}

  authorizeChannel({ channel, request }: { channel: string; request: unknown }): PusherChannelAuthorization {
    const user = userOf(request);
    if (user === undefined) return false;
    const presence = channel.startsWith('presence-');
    authorizations.push({ replica: this.replica, kind: presence ? 'presence' : 'private', subject: channel });
    return presence ? { user_id: user, user_info: { name: user.toUpperCase() } } : true;
  }

  authenticateUser({ request }: { request: unknown }): PusherUserAuthentication {
    const user = userOf(request);
    if (user === undefined) return false;
    authorizations.push({ replica: this.replica, kind: 'user', subject: user });
    return { id: user };
  }
}

@Injectable()
class WebhookRecorder {
  constructor(@Inject(REPLICA) private readonly replica: string) {}

  @OnPusherEvent(['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event'])
  record(event: PusherWebhookEvent, _context: PusherEventContext): void {
    if (event.channel.startsWith(FAILING_ONCE_PREFIX) && !failedOnce.has(event.channel)) {
      failedOnce.add(event.channel);
      throw new Error(`transient failure on ${event.channel} (test)`);
    }
    handledWebhooks.push({ replica: this.replica, event });
  }
}

/** The app's own routes: what a real app does with PusherService, each answer naming the replica that gave it. */
@Controller('traffic')
class TrafficController {
  constructor(
    private readonly pusher: PusherService,
    @Inject(REPLICA) private readonly replica: string,
  ) {}

  /** Answers only once the event was accepted by the server (the acknowledgement the shutdown test relies on). */
  @Post('events')
  async trigger(@Body() body: { channel: string; event: string; data: unknown }): Promise<{ replica: string }> {
    await this.pusher.trigger(body.channel, body.event, body.data);
    return { replica: this.replica };
  }

  @Post('fan-out')
  async fanOut(
    @Body() body: { channels: string[]; event: string; data: unknown },
  ): Promise<{ replica: string; chunks: number }> {
    const chunks = await this.pusher.triggerInChunks(body.channels, body.event, body.data);
    return { replica: this.replica, chunks: chunks.length };
  }

  @Get('members/:channel')
  async members(@Param('channel') channel: string): Promise<{ replica: string; users: string[] }> {
    const { users } = await this.pusher.usersInfo(channel);
    return { replica: this.replica, users: users.map((user) => user.id).sort() };
  }

  @Post('users/:id/notice')
  async notice(@Param('id') userId: string, @Body() body: unknown): Promise<{ replica: string }> {
    await this.pusher.sendToUser(userId, 'notice', body);
    return { replica: this.replica };
  }

  @Post('users/:id/terminate')
  async terminate(@Param('id') userId: string): Promise<{ replica: string }> {
    await this.pusher.terminateUserConnections(userId);
    return { replica: this.replica };
  }
}

interface Replica {
  name: string;
  app: INestApplication;
  url: string;
  port: number;
  closed: boolean;
  /** This replica's own connection to the shared Redis, when it uses the shared delivery store. */
  redis: Redis | undefined;
}

/**
 * One replica: the same app module any deployment would run, pointed at one soketi node's HTTP API. With `redisPort`,
 * webhook deliveries are remembered in Redis (shared by every replica); without, in this replica's memory.
 */
async function startReplica(name: string, soketiPort: number, redisPort?: number): Promise<Replica> {
  const redis =
    redisPort === undefined ? undefined : new Redis({ host: '127.0.0.1', port: redisPort, lazyConnect: true });
  await redis?.connect();
  const deliveryStore: WebhookDeliveryStore =
    redis === undefined
      ? new MemoryWebhookDeliveryStore()
      : new RedisWebhookDeliveryStore({ command: (args) => redis.call(args[0]!, ...args.slice(1)) });

  @Module({
    imports: [
      PusherModule.forRoot({
        ...credentials,
        host: '127.0.0.1',
        port: soketiPort,
        useTLS: false,
        timeout: 5000,
        batching: true,
        webhooks: { deliveryStore },
        authorizer: HeaderAuthorizer,
        imports: [ReplicaNameModule.for(name)],
      }),
      ReplicaNameModule.for(name),
    ],
    controllers: [TrafficController],
    providers: [WebhookRecorder],
  })
  class ReplicaModule {}

  const app = await NestFactory.create(ReplicaModule, { rawBody: true, logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { name, app, url: `http://127.0.0.1:${port}`, port, closed: false, redis };
}

/** Provides the replica's name to the authorizer, the recorder and the controller. */
class ReplicaNameModule {
  static for(name: string) {
    return { module: ReplicaNameModule, providers: [{ provide: REPLICA, useValue: name }], exports: [REPLICA] };
  }
}

async function closeReplica(replica: Replica): Promise<void> {
  if (replica.closed) return;
  replica.closed = true;
  await replica.app.close();
  // After the app: a webhook still being handled during the shutdown needs the store.
  await replica.redis?.quit();
}

async function postJson<T>(url: string, body: unknown = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T,
  };
}

describe('several replicas on a clustered soketi (Redis adapter), end to end', () => {
  let redis: TestRedis;
  let nodeA: TestSoketi;
  let nodeB: TestSoketi;
  let replica1: Replica;
  let replica2: Replica;
  let proxy: RoundRobinProxy;

  function channel(prefix: string): string {
    return `${prefix}${randomBytes(4).toString('hex')}`;
  }

  function client(node: TestSoketi, user: string): Promise<TestClient> {
    return connectClient(
      { host: node.host, port: node.port, key: credentials.key },
      {
        channelAuthEndpoint: `${proxy.url}/pusher/auth`,
        userAuthEndpoint: `${proxy.url}/pusher/user-auth`,
        authHeaders: { [USER_HEADER]: user },
      },
    );
  }

  beforeAll(async () => {
    // Replicas must know their node's port when created, nodes the proxy's URL (webhooks): reserve the node ports first.
    const [portA, portB] = [await freeTcpPort(), await freeTcpPort()];
    redis = await startRedis();
    [replica1, replica2] = await Promise.all([
      startReplica('replica-1', portA, redis.port),
      startReplica('replica-2', portB, redis.port),
    ]);
    proxy = await startRoundRobinProxy([
      { name: replica1.name, port: replica1.port },
      { name: replica2.name, port: replica2.port },
    ]);
    const cluster = {
      host: redis.host,
      port: redis.port,
      prefix: `nest-pusher-test-${randomBytes(3).toString('hex')}`,
    };
    // The query string tells which node sent a webhook (the route ignores it).
    [nodeA, nodeB] = await Promise.all([
      startTestSoketi({
        ...credentials,
        port: portA,
        redis: cluster,
        webhookUrl: `${proxy.url}/pusher/webhooks?node=A`,
      }),
      startTestSoketi({
        ...credentials,
        port: portB,
        redis: cluster,
        webhookUrl: `${proxy.url}/pusher/webhooks?node=B`,
      }),
    ]);
  });

  afterAll(async () => {
    await disconnectAllClients();
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await Promise.all([replica1, replica2].filter((replica) => replica !== undefined).map(closeReplica));
    await proxy?.close();
    await redis?.stop();
  });

  it('delivers events triggered through either replica to clients on both nodes (trigger and triggerInChunks)', async () => {
    const name = channel('news-');
    const onA = await client(nodeA, 'alice');
    const onB = await client(nodeB, 'bob');
    const headlinesA = onA.record(await onA.subscribe(name), 'headline');
    const headlinesB = onB.record(await onB.subscribe(name), 'headline');

    const first = await postJson<{ replica: string }>(`${proxy.url}/traffic/events`, {
      channel: name,
      event: 'headline',
      data: { n: 1 },
    });
    const second = await postJson<{ replica: string }>(`${proxy.url}/traffic/events`, {
      channel: name,
      event: 'headline',
      data: { n: 2 },
    });

    expect([first.status, second.status]).toEqual([201, 201]);
    expect([first.body.replica, second.body.replica].sort()).toEqual(['replica-1', 'replica-2']);
    for (const headlines of [headlinesA, headlinesB]) {
      expect([await headlines.next(), await headlines.next()]).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
    }

    // 150 channels: two /events requests; the watched channels sit in different chunks and on different nodes.
    const channels = Array.from({ length: 150 }, (_, index) => `${name}-${index}`);
    const alertsA = onA.record(await onA.subscribe(channels[5]!), 'alert');
    const alertsB = onB.record(await onB.subscribe(channels[140]!), 'alert');
    const fanOut = await postJson<{ chunks: number }>(`${proxy.url}/traffic/fan-out`, {
      channels,
      event: 'alert',
      data: { level: 3 },
    });
    expect(fanOut.body.chunks).toBe(2);
    expect(await alertsA.next()).toEqual({ level: 3 });
    expect(await alertsB.next()).toEqual({ level: 3 });
  });

  it('agrees on presence membership across nodes: pusher-js members and usersInfo through either replica', async () => {
    const name = channel('presence-room-');
    const alice = await client(nodeA, 'alice');
    const bob = await client(nodeB, 'bob');

    const aliceRoom = await alice.subscribe<PresenceChannel>(name);
    const bobRoom = await bob.subscribe<PresenceChannel>(name);

    // Bob's node knew about alice when bob subscribed; alice's node tells her about bob through Redis.
    expect(Object.keys(bobRoom.members.members as Record<string, unknown>).sort()).toEqual(['alice', 'bob']);
    await waitFor(() => aliceRoom.members.count === 2, { description: 'alice (node A) to see bob (node B) join' });
    expect(aliceRoom.members.get('bob')).toEqual({ id: 'bob', info: { name: 'BOB' } });

    const answers = [
      await fetch(`${proxy.url}/traffic/members/${name}`).then(
        (response) => response.json() as Promise<{ replica: string; users: string[] }>,
      ),
      await fetch(`${proxy.url}/traffic/members/${name}`).then(
        (response) => response.json() as Promise<{ replica: string; users: string[] }>,
      ),
    ];
    expect(answers.map((answer) => answer.replica).sort()).toEqual(['replica-1', 'replica-2']);
    for (const answer of answers) expect(answer.users).toEqual(['alice', 'bob']);
  });

  it('accepts private, presence and user-auth answers from either replica on either node', async () => {
    const seen = new Set<string>();
    for (const [nodeName, node] of [
      ['A', nodeA],
      ['B', nodeB],
    ] as const) {
      for (const kind of ['private', 'presence', 'user'] as const) {
        // Round robin alternates replicas per route; keep going (bounded) until both answered this kind for this node.
        for (
          let attempt = 0;
          attempt < 4 && !(seen.has(`${nodeName}/${kind}/replica-1`) && seen.has(`${nodeName}/${kind}/replica-2`));
          attempt++
        ) {
          if (kind === 'user') {
            const user = `user-${nodeName}-${randomBytes(3).toString('hex')}`;
            const signedIn = await client(node, user);
            expect(await signedIn.signin()).toEqual({ id: user });
            seen.add(
              `${nodeName}/${kind}/${authorizations.find((entry) => entry.kind === 'user' && entry.subject === user)!.replica}`,
            );
          } else {
            const subscriber = await client(node, 'carol');
            const name = channel(`${kind}-matrix-`);
            await subscriber.subscribe(name);
            seen.add(`${nodeName}/${kind}/${authorizations.find((entry) => entry.subject === name)!.replica}`);
          }
        }
      }
    }
    expect([...seen].sort()).toEqual(
      ['A', 'B'].flatMap((node) =>
        ['presence', 'private', 'user'].flatMap((kind) => [`${node}/${kind}/replica-1`, `${node}/${kind}/replica-2`]),
      ),
    );
  });

  it('reaches a signed-in user on the other node with sendToUser and terminateUserConnections', async () => {
    // replica 1 talks to node A, replica 2 to node B: each call crosses to the other node through Redis.
    const carolId = `carol-${randomBytes(3).toString('hex')}`;
    const daveId = `dave-${randomBytes(3).toString('hex')}`;
    const carol = await client(nodeB, carolId);
    const dave = await client(nodeA, daveId);
    await carol.signin();
    await dave.signin();
    await carol.userChannelReady();
    await dave.userChannelReady();
    const notices = { carol: [] as unknown[], dave: [] as unknown[] };
    carol.pusher.user.bind('notice', (data: unknown) => notices.carol.push(data));
    dave.pusher.user.bind('notice', (data: unknown) => notices.dave.push(data));

    expect((await postJson(`${replica1.url}/traffic/users/${carolId}/notice`, { text: 'from replica 1' })).status).toBe(
      201,
    );
    expect((await postJson(`${replica2.url}/traffic/users/${daveId}/notice`, { text: 'from replica 2' })).status).toBe(
      201,
    );
    await waitFor(() => notices.carol.length > 0 && notices.dave.length > 0, { description: 'both sendToUser events' });
    expect(notices).toEqual({ carol: [{ text: 'from replica 1' }], dave: [{ text: 'from replica 2' }] });

    const carolDropped = carol.dropped();
    const daveDropped = dave.dropped();
    await postJson(`${replica1.url}/traffic/users/${carolId}/terminate`);
    await postJson(`${replica2.url}/traffic/users/${daveId}/terminate`);
    expect(await carolDropped).not.toBe('connected');
    expect(await daveDropped).not.toBe('connected');
  });

  it('sends each lifecycle webhook from one node only and it is handled once (observed: the node where the change happened)', async () => {
    const name = channel('presence-hooks-');
    const webhooksFor = (eventName: string, user?: string) =>
      handledWebhooks.filter(
        ({ event }) =>
          event.channel === name &&
          event.name === eventName &&
          (user === undefined || ('user_id' in event && event.user_id === user)),
      );
    /** Webhook deliveries about this channel: the node that sent each (from the URL) and its events. */
    const deliveries = () =>
      proxy.log
        .filter((entry) => entry.url.startsWith('/pusher/webhooks') && entry.body.includes(name))
        .map((entry) => ({
          node: new URL(entry.url, proxy.url).searchParams.get('node'),
          events: (JSON.parse(entry.body) as { events: PusherWebhookEvent[] }).events.map((event) =>
            'user_id' in event ? `${event.name} ${event.user_id}` : event.name,
          ),
        }));
    const arrived = (eventName: string, user?: string) =>
      waitFor(() => webhooksFor(eventName, user).length > 0, { description: `${eventName} ${user ?? ''} on ${name}` });

    const alice = await client(nodeA, 'alice');
    await alice.subscribe(name);
    await arrived('channel_occupied');
    await arrived('member_added', 'alice');
    const bob = await client(nodeB, 'bob');
    await bob.subscribe(name);
    await arrived('member_added', 'bob');
    await bob.disconnect();
    await arrived('member_removed', 'bob');
    await alice.disconnect();
    await arrived('member_removed', 'alice');
    await arrived('channel_vacated');
    // The proxy logs a delivery when the replica's answer has passed back through it, which can be after the handler ran.
    await waitFor(() => deliveries().length >= 6, {
      description: `six webhook deliveries about ${name} in the proxy log`,
    });

    // One delivery each, and from the node whose client caused it.
    expect(deliveries()).toEqual(
      expect.arrayContaining([
        { node: 'A', events: ['channel_occupied'] },
        { node: 'A', events: ['member_added alice'] },
        { node: 'B', events: ['member_added bob'] },
        { node: 'B', events: ['member_removed bob'] },
        { node: 'A', events: ['member_removed alice'] },
        { node: 'A', events: ['channel_vacated'] },
      ]),
    );
    expect(deliveries()).toHaveLength(6);
    for (const [eventName, user] of [
      ['channel_occupied'],
      ['member_added', 'alice'],
      ['member_added', 'bob'],
      ['member_removed', 'bob'],
      ['member_removed', 'alice'],
      ['channel_vacated'],
    ] as const) {
      expect({ eventName, user, handled: webhooksFor(eventName, user).length }).toEqual({
        eventName,
        user,
        handled: 1,
      });
    }
  });

  /** A webhook as Pusher sends it (signed with the app secret); the same bytes each time it is (re)delivered. */
  function signedWebhook(events: PusherWebhookEvent[]): {
    body: string;
    headers: Record<string, string>;
    events: PusherWebhookEvent[];
  } {
    const body = JSON.stringify({ time_ms: Date.now(), events });
    return {
      body,
      events,
      headers: {
        'content-type': 'application/json',
        'x-pusher-key': credentials.key,
        'x-pusher-signature': createHmac('sha256', credentials.secret).update(body).digest('hex'),
      },
    };
  }

  async function deliver(baseUrl: string, webhook: { body: string; headers: Record<string, string> }): Promise<number> {
    const response = await fetch(`${baseUrl}/pusher/webhooks`, {
      method: 'POST',
      headers: webhook.headers,
      body: webhook.body,
    });
    await response.arrayBuffer();
    return response.status;
  }

  it('handles a redelivered webhook once although each delivery reaches another replica (shared store in Redis)', async () => {
    const name = channel('redelivered-');
    const webhook = signedWebhook([{ name: 'channel_occupied', channel: name }]);

    // As a load balancer may place them: the delivery and two redeliveries, each on the other replica.
    const statuses = [
      await deliver(replica1.url, webhook),
      await deliver(replica2.url, webhook),
      await deliver(replica1.url, webhook),
    ];

    expect(statuses.every((status) => status >= 200 && status < 300)).toBe(true);
    expect(handledWebhooks.filter((entry) => entry.event.channel === name)).toEqual([
      { replica: 'replica-1', event: webhook.events[0] },
    ]);
  });

  it('handles a webhook whose handler failed again, in full, on the other replica, and then never again', async () => {
    const name = channel(FAILING_ONCE_PREFIX);
    const webhook = signedWebhook([{ name: 'channel_occupied', channel: name }]);

    expect(await deliver(replica1.url, webhook)).toBe(500);
    expect(handledWebhooks.filter((entry) => entry.event.channel === name)).toHaveLength(0);

    // Pusher redelivers after a failure: on the other replica the handlers run; the next redelivery runs nothing.
    const retried = await deliver(replica2.url, webhook);
    const replayed = await deliver(replica1.url, webhook);
    expect([retried, replayed].every((status) => status >= 200 && status < 300)).toBe(true);
    expect(handledWebhooks.filter((entry) => entry.event.channel === name)).toEqual([
      { replica: 'replica-2', event: webhook.events[0] },
    ]);
  });

  it('control: with a store per replica (each in its own memory), the same redelivery is handled twice', async () => {
    // Two more replicas, only for webhooks (no soketi needed), with the default in-memory store each.
    const solo = await Promise.all([startReplica('memory-1', nodeA.port), startReplica('memory-2', nodeB.port)]);
    try {
      const name = channel('per-replica-');
      const webhook = signedWebhook([{ name: 'channel_occupied', channel: name }]);
      const statuses = [
        await deliver(solo[0]!.url, webhook),
        await deliver(solo[1]!.url, webhook),
        await deliver(solo[0]!.url, webhook),
      ];
      expect(statuses.every((status) => status >= 200 && status < 300)).toBe(true);
      // Each replica suppressed only what it had seen itself: handled once per replica.
      expect(handledWebhooks.filter((entry) => entry.event.channel === name).map((entry) => entry.replica)).toEqual([
        'memory-1',
        'memory-2',
      ]);
    } finally {
      await Promise.all(solo.map(closeReplica));
    }
  });

  it('loses no acknowledged event when a replica shuts down mid-traffic', async () => {
    const name = channel('orders-');
    const onA = await client(nodeA, 'alice');
    const onB = await client(nodeB, 'bob');
    const ordersA = onA.record(await onA.subscribe(name), 'order');
    const ordersB = onB.record(await onB.subscribe(name), 'order');

    const total = 60;
    const acknowledged: Array<{ n: number; replica: string; afterShutdownBegan: boolean }> = [];
    const refused: number[] = [];
    let shutdown: Promise<void> | undefined;
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        if (n === total / 3) shutdown = closeReplica(replica1);
        const afterShutdownBegan = shutdown !== undefined;
        const answer = await postJson<{ replica: string }>(`${proxy.url}/traffic/events`, {
          channel: name,
          event: 'order',
          data: { n },
        });
        if (answer.status === 201) acknowledged.push({ n, replica: answer.body.replica, afterShutdownBegan });
        else refused.push(answer.status);
      }
    };
    await Promise.all(Array.from({ length: 4 }, sender));
    await shutdown;

    // Both replicas served traffic, and the survivor took over once the other went away.
    expect(acknowledged.some((entry) => entry.replica === 'replica-1')).toBe(true);
    expect(acknowledged.some((entry) => entry.replica === 'replica-2' && entry.afterShutdownBegan)).toBe(true);
    // A request the proxy could not place is answered 502, never acknowledged; there should be none or very few.
    expect(refused.every((status) => status === 502)).toBe(true);
    const expected = acknowledged.map((entry) => entry.n).sort((a, b) => a - b);
    for (const [node, orders] of [
      ['A', ordersA],
      ['B', ordersB],
    ] as const) {
      await waitFor(() => expected.every((n) => orders.received.some((data) => (data as { n: number }).n === n)), {
        description: `every acknowledged order on node ${node} (${expected.length} acknowledged)`,
      });
    }
  });
});
