/**
 * Two replicas of a Nest app behind one webhook URL share a RedisWebhookDeliveryStore on a real redis-server: a
 * delivery is handled by one replica only, a concurrent copy on the other is answered 409 (so that it is delivered
 * again later) and a later copy is a duplicate; a delivery that failed on one replica runs in full on the other.
 */
import '../unit/nest/support/nest-app.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { OnPusherEvent, PusherModule, RedisWebhookDeliveryStore, type ChannelOccupiedEvent } from 'nest-pusher';
import {
  APP,
  captureLogs,
  type CapturedLogs,
  postJson,
  type RunningApp,
  signedWebhook,
  startApp,
} from '../unit/nest/support/nest-app.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const runs: string[] = [];
const gates = new Map<string, Promise<void>>();
const failOnce = new Set<string>();

@Injectable()
class OccupancyHandler {
  @OnPusherEvent('channel_occupied')
  async onOccupied(event: ChannelOccupiedEvent): Promise<void> {
    runs.push(event.channel);
    await gates.get(event.channel);
    if (failOnce.delete(event.channel)) throw new Error('first attempt fails');
  }
}

describe('webhook deliveries across two replicas sharing Redis', () => {
  let redis: TestRedis;
  const connections: Redis[] = [];
  const replicas: RunningApp[] = [];
  let logs: CapturedLogs;

  beforeAll(async () => {
    logs = captureLogs();
    redis = await startRedis();
    for (let index = 0; index < 2; index++) {
      const connection = new Redis({ host: redis.host, port: redis.port, maxRetriesPerRequest: 1 });
      connections.push(connection);
      const deliveryStore = new RedisWebhookDeliveryStore({
        command: (args) => connection.call(args[0]!, ...args.slice(1)),
      });
      replicas.push(
        await startApp('express', {
          imports: [
            PusherModule.forRoot({
              ...APP,
              webhooks: { deliveryStore, handlerTimeoutMs: 20_000 },
              webhookController: { summary: true },
            }),
          ],
          providers: [OccupancyHandler],
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)));
    await redis?.stop();
    logs?.restore();
  });

  const post = (replica: number, webhook: ReturnType<typeof signedWebhook>) =>
    postJson(`${replicas[replica]!.url}/pusher/webhooks`, webhook.body, webhook.headers);

  it('handles a delivery on one replica only, whether the copy arrives during or after the handling', async () => {
    let open!: () => void;
    gates.set('private-shared', new Promise<void>((resolve) => (open = resolve)));
    const webhook = signedWebhook({
      time_ms: Date.now(),
      events: [{ name: 'channel_occupied', channel: 'private-shared' }],
    });
    const first = post(0, webhook);
    await waitFor(() => runs.includes('private-shared'), { description: 'replica A to start handling' });
    const concurrent = await post(1, webhook);
    expect(concurrent.status).toBe(409);
    open();
    expect((await first).status).toBe(200);
    const later = await post(1, webhook);
    expect(later.status).toBe(200);
    expect(((await later.json()) as { duplicate: boolean }).duplicate).toBe(true);
    expect(runs.filter((channel) => channel === 'private-shared')).toHaveLength(1);
  });

  it('runs a delivery that failed on one replica in full on the other', async () => {
    failOnce.add('private-flaky');
    const webhook = signedWebhook({
      time_ms: Date.now(),
      events: [{ name: 'channel_occupied', channel: 'private-flaky' }],
    });
    expect((await post(0, webhook)).status).toBe(500);
    expect((await post(1, webhook)).status).toBe(200);
    expect((await post(0, webhook)).status).toBe(200);
    expect(runs.filter((channel) => channel === 'private-flaky')).toHaveLength(2);
  });
});
