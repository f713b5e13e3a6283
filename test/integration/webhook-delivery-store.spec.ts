/**
 * Duplicate suppression stores: the in-memory default (pure logic, fake clock) and the Redis store against a real
 * redis-server (test/support/redis.ts) through ioredis, including two "replicas" claiming the same delivery at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { MemoryWebhookDeliveryStore, RedisWebhookDeliveryStore, type WebhookDeliveryStore } from 'nest-pusher/core';
import { startRedis, type TestRedis } from '../support/redis.js';

describe('MemoryWebhookDeliveryStore', () => {
  it('claims once, reports in-progress to others, done after complete, and is claimable again after release', async () => {
    let now = 1_000;
    const store = new MemoryWebhookDeliveryStore({ now: () => now });
    expect(await store.claim('d1', 'a', 5000)).toBe('claimed');
    expect(await store.claim('d1', 'b', 5000)).toBe('in-progress');
    await store.release('d1', 'b'); // not b's claim: nothing happens
    expect(await store.claim('d1', 'b', 5000)).toBe('in-progress');
    await store.release('d1', 'a');
    expect(await store.claim('d1', 'b', 5000)).toBe('claimed');
    await store.complete('d1', 'b', 60_000);
    expect(await store.claim('d1', 'c', 5000)).toBe('done');
    await store.release('d1', 'b'); // a release never forgets a handled delivery
    expect(await store.claim('d1', 'c', 5000)).toBe('done');
    now += 60_001;
    expect(await store.claim('d1', 'c', 5000)).toBe('claimed');
  });

  it('lets an abandoned claim expire (a crashed handler does not block the delivery for ever)', async () => {
    let now = 0;
    const store = new MemoryWebhookDeliveryStore({ now: () => now });
    expect(await store.claim('d', 'a', 100)).toBe('claimed');
    now = 101;
    expect(await store.claim('d', 'b', 100)).toBe('claimed');
  });

  it("renews its owner's live claim only (handlers still running after a 503)", async () => {
    let now = 0;
    const store = new MemoryWebhookDeliveryStore({ now: () => now });
    expect(await store.claim('d', 'a', 100)).toBe('claimed');
    now = 90;
    expect(await store.renew('d', 'b', 100)).toBe(false);
    expect(await store.renew('d', 'a', 100)).toBe(true);
    now = 150;
    expect(await store.claim('d', 'b', 100)).toBe('in-progress');
    now = 191;
    expect(await store.renew('d', 'a', 100)).toBe(false); // expired: renewing cannot resurrect it
    expect(await store.claim('d', 'b', 100)).toBe('claimed');
    await store.complete('d', 'b', 1000);
    expect(await store.renew('d', 'b', 100)).toBe(false); // a handled delivery is not a claim
    expect(await store.claim('d', 'c', 100)).toBe('done');
  });

  it('over maxEntries forgets expired and handled deliveries before a live claim (its handlers still run)', async () => {
    let now = 0;
    const store = new MemoryWebhookDeliveryStore({ maxEntries: 3, now: () => now });
    expect(await store.claim('running', 'a', 10_000)).toBe('claimed');
    await store.claim('expired', 'o', 10);
    await store.complete('expired', 'o', 10);
    await store.claim('done', 'o', 10_000);
    await store.complete('done', 'o', 10_000);
    now = 100;
    await store.claim('new-1', 'o', 10_000);
    await store.claim('new-2', 'o', 10_000);
    expect(store.size).toBe(3);
    expect(await store.claim('running', 'b', 10_000)).toBe('in-progress');
    expect(await store.claim('new-1', 'b', 10_000)).toBe('in-progress');
    expect(await store.claim('done', 'b', 10_000)).toBe('claimed'); // forgotten: the oldest handled delivery went first
  });

  it('frees a tenth of its room at once when full, so that eviction is one pass per many inserts', async () => {
    const store = new MemoryWebhookDeliveryStore({ maxEntries: 20, now: () => 0 });
    for (let i = 1; i <= 21; i++) await store.complete(`d${i}`, 'o', 10_000);
    expect(store.size).toBe(18);
    expect(await store.claim('d3', 'x', 10)).toBe('claimed'); // the three oldest went
    expect(await store.claim('d4', 'x', 10)).toBe('done');
  });

  it('stays within maxEntries, forgetting the oldest first', async () => {
    const store = new MemoryWebhookDeliveryStore({ maxEntries: 3, now: () => 0 });
    for (const id of ['1', '2', '3', '4', '5']) {
      await store.claim(id, 'o', 10_000);
      await store.complete(id, 'o', 10_000);
    }
    expect(store.size).toBe(3);
    expect(await store.claim('5', 'x', 10)).toBe('done');
    expect(await store.claim('3', 'x', 10)).toBe('done');
    expect(await store.claim('1', 'x', 10)).toBe('claimed');
    expect(() => new MemoryWebhookDeliveryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});

describe('RedisWebhookDeliveryStore against a real redis-server', () => {
  let redis: TestRedis;
  let clients: Redis[] = [];
  const storeOn = (client: Redis, prefix = 'test:') =>
    new RedisWebhookDeliveryStore({ command: (args) => client.call(args[0]!, ...args.slice(1)), prefix });

  beforeAll(async () => {
    redis = await startRedis();
    clients = [0, 1].map(
      () => new Redis({ host: redis.host, port: redis.port, lazyConnect: false, maxRetriesPerRequest: 1 }),
    );
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
    await redis?.stop();
  });

  it('claims, completes and releases like the in-memory store, with keys that expire by themselves', async () => {
    const store = storeOn(clients[0]!);
    expect(await store.claim('d1', 'a', 5000)).toBe('claimed');
    expect(await store.claim('d1', 'b', 5000)).toBe('in-progress');
    await store.release('d1', 'b');
    expect(await store.claim('d1', 'b', 5000)).toBe('in-progress');
    await store.release('d1', 'a');
    expect(await store.claim('d1', 'b', 5000)).toBe('claimed');
    await store.complete('d1', 'b', 60_000);
    expect(await store.claim('d1', 'c', 5000)).toBe('done');
    expect(await clients[0]!.get('test:d1')).toBe('done');
    const ttl = await clients[0]!.pttl('test:d1');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("renews its owner's claim only, with a conditional PEXPIRE", async () => {
    const store = storeOn(clients[0]!, 'renew:');
    expect(await store.claim('d1', 'a', 1000)).toBe('claimed');
    expect(await store.renew('d1', 'b', 600_000)).toBe(false);
    expect(await clients[0]!.pttl('renew:d1')).toBeLessThanOrEqual(1000);
    expect(await store.renew('d1', 'a', 600_000)).toBe(true);
    expect(await clients[0]!.pttl('renew:d1')).toBeGreaterThan(1000);
    expect(await clients[0]!.get('renew:d1')).toBe('claimed:a');
    await store.complete('d1', 'a', 60_000);
    expect(await store.renew('d1', 'a', 600_000)).toBe(false);
    expect(await clients[0]!.get('renew:d1')).toBe('done');
    expect(await store.renew('absent', 'a', 1000)).toBe(false);
  });

  it('gives a delivery to exactly one of two replicas claiming it at the same time, over separate connections', async () => {
    const replicas: WebhookDeliveryStore[] = [storeOn(clients[0]!, 'race:'), storeOn(clients[1]!, 'race:')];
    for (let round = 0; round < 50; round++) {
      const id = `delivery-${round}`;
      const answers = await Promise.all(replicas.map((store, index) => store.claim(id, `replica-${index}`, 5000)));
      expect(answers.filter((answer) => answer === 'claimed')).toHaveLength(1);
      expect(answers.filter((answer) => answer === 'in-progress')).toHaveLength(1);
    }
  });

  it('refuses a client-less construction with a message naming the fix', () => {
    expect(() => new RedisWebhookDeliveryStore({} as never)).toThrow(/command: \(args\) =>/);
  });
});
