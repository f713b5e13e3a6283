// One trigger client in a process of its own, driven by bench/run.js over IPC. Each client gets a clean JIT and
// heap and its own process.cpuUsage, so that no client's numbers depend on which other clients ran before it in the
// same process (in one shared process, nest-pusher core measured ~35% slower than alone).
//
//   argv: port kind   (kind: core | service | official | raw | batching)
//   parent -> child: { type: 'run', id, payload, concurrency, calls } | { type: 'burst', id, payload, count } | { type: 'close' }
//   child -> parent: { type: 'ready', name, unavailable? } | { type: 'done', id, result }
import { official, ourCore, ourService, rawUndici } from './clients.js';
import { PAYLOADS } from './fixtures.js';
import { gc, runConcurrent } from './harness.js';

const [portArg, kind] = process.argv.slice(2);
const port = Number(portArg);
const make = {
  core: () => ourCore(port),
  service: () => ourService(port),
  official: () => official(port),
  raw: () => rawUndici(port),
  batching: () => ourCore(port, { batching: true }, 'nest-pusher core, batching: true'),
}[kind];

const client = await make();
void gc; // harness.js exposes gc on import; runConcurrent collects before each cell

process.on('message', async (msg) => {
  if (msg?.type === 'run') {
    const data = PAYLOADS[msg.payload];
    const r = await runConcurrent(() => client.trigger(data), msg.calls, msg.concurrency);
    process.send({
      type: 'done',
      id: msg.id,
      result: { ...r, firstError: r.firstError === undefined ? undefined : String(r.firstError?.message ?? r.firstError) },
    });
  } else if (msg?.type === 'burst') {
    // `count` triggers started in the same tick (the batching check), then awaited.
    const data = PAYLOADS[msg.payload];
    let error;
    try {
      const results = await Promise.all(Array.from({ length: msg.count }, () => client.trigger(data)));
      if (results.length !== msg.count) error = 'missing results';
    } catch (err) {
      error = String(err?.message ?? err);
    }
    process.send({ type: 'done', id: msg.id, result: { error } });
  } else if (msg?.type === 'close') {
    await client.close?.().catch(() => {});
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', name: client.name, unavailable: client.unavailable });
