// One trigger client in a process of its own, driven by bench/run.js over IPC. Each client gets a clean JIT and
// heap and its own process.cpuUsage, so that no client's numbers depend on which other clients ran before it in the
// same process (in one shared process, nest-pusher core measured ~35% slower than alone).
//
//   argv: port kind   (kind: core | service | official | raw | signed | batching | baseline)
//   env BENCH_BASELINE: a directory holding another build's dist/ and package.json (kind baseline loads its
//     dist/esm/core/index.js, or dist/core/index.js for builds before the dual build), e.g. the code before a
//     change, so that before and after are measured in the same run.
//   env BENCH_GC_MARKS=1: write "### measure start|end" lines to stdout around each run (bench/gc-trace.js reads
//     them between V8's --trace-gc-nvp lines).
//   parent -> child: { type: 'run', id, payload, concurrency, calls } | { type: 'burst', id, payload, count } | { type: 'close' }
//   child -> parent: { type: 'ready', name, unavailable? } | { type: 'done', id, result }
import { existsSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { official, ourCore, ourService, rawUndici, signedFloor } from './clients.js';
import { PAYLOADS } from './fixtures.js';
import { runConcurrent } from './harness.js';

const [portArg, kind] = process.argv.slice(2);
const port = Number(portArg);
const make = {
  core: () => ourCore(port),
  service: () => ourService(port),
  official: () => official(port),
  raw: () => rawUndici(port),
  signed: () => signedFloor(port),
  batching: () => ourCore(port, { batching: true }, 'nest-pusher core, batching: true'),
  baseline: () => ourCore(port, {}, 'nest-pusher core (before)', baselineCoreUrl(process.env.BENCH_BASELINE ?? '.')),
}[kind];
const marks = process.env.BENCH_GC_MARKS === '1';

/** The baseline build's core: dist/esm/core since the dual build, dist/core before it. */
function baselineCoreUrl(root) {
  const dual = join(root, 'dist/esm/core/index.js');
  return pathToFileURL(existsSync(dual) ? dual : join(root, 'dist/core/index.js')).href;
}

const client = await make();

process.on('message', async (msg) => {
  if (msg?.type === 'run') {
    const data = PAYLOADS[msg.payload];
    if (marks) writeSync(1, '### measure start\n');
    const r = await runConcurrent(() => client.trigger(data), msg.calls, msg.concurrency);
    if (marks) writeSync(1, '### measure end\n');
    process.send({
      type: 'done',
      id: msg.id,
      result: {
        ...r,
        firstError: r.firstError === undefined ? undefined : String(r.firstError?.message ?? r.firstError),
      },
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
