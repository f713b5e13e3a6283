// Memory check in a process of its own (started with --expose-gc): after a warm-up, `total` triggers at
// concurrency 64 through one nest-pusher core client, with a full GC and a heap/RSS sample every `every` calls.
// Reports { type: 'result', samples: [{ calls, heapUsed, rss, external }] } or { type: 'result', error }.
import { CHANNEL, EVENT, PAYLOADS } from './fixtures.js';
import { clientOptions } from './clients.js';

const [port, total, warmup, every, batching] = process.argv.slice(2).map(Number);
const data = PAYLOADS['200B'];

async function run(pusher, calls) {
  let issued = 0;
  let errors = 0;
  async function worker() {
    while (issued < calls) {
      issued++;
      await pusher.trigger(CHANNEL, EVENT, data).catch(() => errors++);
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker));
  if (errors) throw new Error(`${errors} of ${calls} triggers failed`);
}

function sample(calls) {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { calls, heapUsed: m.heapUsed, rss: m.rss, external: m.external };
}

let pusher;
try {
  if (typeof globalThis.gc !== 'function') throw new Error('start this process with --expose-gc');
  const { Pusher } = await import('nest-pusher/core');
  pusher = new Pusher(clientOptions(port, batching ? { batching: true } : {}));
  await run(pusher, warmup);
  const samples = [sample(0)];
  for (let done = 0; done < total; done += every) {
    await run(pusher, every);
    samples.push(sample(done + every));
  }
  process.send({ type: 'result', samples });
} catch (err) {
  process.send({ type: 'result', error: String(err?.stack ?? err) });
} finally {
  await pusher?.close().catch(() => {});
  process.disconnect();
}
