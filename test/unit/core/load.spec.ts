/**
 * Load (the server runs in a worker thread, so client and server each get a core): 100,000 calls at concurrency 1,000 against a local server finish without an error and with flat memory;
 * close() during load lets running calls settle (fulfilled or a typed error) and nothing hangs.
 */
import { resolveRetryPolicy } from '../../../lib/core/retry.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import v8 from 'node:v8';
import vm from 'node:vm';
import { DEFAULT_MAX_CONNECTIONS } from '../../../lib/core/pusher.config.js';
import { PusherHttpClient } from '../../../lib/core/pusher-http-client.js';
import { PusherRequestError } from '../../../lib/core/pusher.errors.js';
import { UndiciTransport } from '../../../lib/core/transport/undici.transport.js';
import { startWorkerServer, watchUnhandledRejections, type WorkerServer } from '../../support/misbehaving-server.js';
import { waitFor } from '../../support/wait.js';

// 50,000 calls keep this well inside its timeout with both cores busy; the memory bound below scales with TOTAL, so
// the per-call leak it can see stays the same (about 250 bytes a call).
const TOTAL = 50_000;
const WARM_UP = 5_000;
const CONCURRENCY = 1_000;
const BODY = JSON.stringify({ name: 'load', channels: ['load-channel'], data: JSON.stringify({ n: 1 }) });

let server: WorkerServer;
const rejections = watchUnhandledRejections();

/** A real full collection, so heap sizes compare live objects rather than garbage not yet collected. */
function collector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function makeClient(timeout = 30_000): PusherHttpClient {
  return new PusherHttpClient({
    appId: '42',
    key: 'load-key',
    secret: 'load-secret',
    origin: server.origin,
    timeout,
    retry: resolveRetryPolicy(undefined),
    transport: new UndiciTransport(),
    libraryName: 'nest-pusher test',
  });
}

/** Runs `total` calls with `concurrency` callers; resolves with the number of successes, rejects on the first error. */
async function drive(client: PusherHttpClient, total: number, concurrency: number): Promise<number> {
  let started = 0;
  let succeeded = 0;
  const caller = async (): Promise<void> => {
    while (started < total) {
      started++;
      await client.request('POST', '/events', { body: BODY });
      succeeded++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return succeeded;
}

beforeAll(async () => {
  server = await startWorkerServer();
});

afterAll(async () => {
  await server.close();
  rejections.stop();
  expect(rejections.seen).toEqual([]);
});

describe('load', () => {
  it(`${TOTAL} calls at concurrency ${CONCURRENCY} all succeed with flat memory`, async () => {
    const client = makeClient();
    const gc = collector();
    const connectionsBefore = await server.connections();

    await drive(client, WARM_UP, CONCURRENCY);
    gc?.();
    const warm = process.memoryUsage().heapUsed;

    const succeeded = await drive(client, TOTAL, CONCURRENCY);
    expect(succeeded).toBe(TOTAL);
    expect(client.inFlight).toBe(0);
    gc?.();
    const end = process.memoryUsage().heapUsed;

    // Flat: nothing per call survives the call. With a real collection the bound can be tight-ish; without, the
    // young generation alone can hold tens of MB of garbage.
    const bound = gc === undefined ? 200 * 1024 * 1024 : Math.round((24 * 1024 * 1024 * TOTAL) / 100_000);
    expect(end - warm).toBeLessThan(bound);
    // The pool caps connections (the default) however many callers there are.
    expect((await server.connections()) - connectionsBefore).toBeLessThanOrEqual(DEFAULT_MAX_CONNECTIONS);
    await client.close();
  }, 120_000);

  it('close() during load: running calls settle, nothing hangs, later calls reject ECLOSED', async () => {
    const client = makeClient(5_000);
    await server.setDelay(5);
    const outcomes: Array<'ok' | 'closed' | 'other'> = [];
    let stop = false;
    const caller = async (): Promise<void> => {
      while (!stop) {
        try {
          await client.request('POST', '/events', { body: BODY });
          outcomes.push('ok');
        } catch (error) {
          if (error instanceof PusherRequestError && error.code === 'ECLOSED') {
            outcomes.push('closed');
            stop = true;
          } else {
            outcomes.push('other');
            stop = true;
          }
        }
      }
    };
    try {
      const callers = Promise.all(Array.from({ length: CONCURRENCY }, caller));
      // Close once the load is under way (calls have completed and others are running), however long that takes.
      await waitFor(() => outcomes.length >= 200, { timeoutMs: 20_000, description: '200 calls to complete' });
      const inFlightAtClose = client.inFlight;
      expect(inFlightAtClose).toBeGreaterThan(0);
      // Bounded by the calls' own 5 s deadline; a hang would end in this test's timeout.
      await client.close();
      expect(client.inFlight).toBe(0);
      await callers;
      expect(outcomes.filter((o) => o === 'other')).toEqual([]);
      // Calls that were running when close() came finished normally; only new ones were refused.
      expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(inFlightAtClose);
      expect(outcomes.filter((o) => o === 'closed').length).toBeGreaterThan(0);
      const late = client.request('POST', '/events', { body: BODY });
      await expect(late).rejects.toMatchObject({ code: 'ECLOSED', status: 0 });
    } finally {
      await server.setDelay(0);
    }
  }, 30_000);
});
