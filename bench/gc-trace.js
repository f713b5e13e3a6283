// How much of each trigger client's garbage survives a scavenge, and how much is promoted to old space: runs each
// client in its own process under V8's --trace-gc-nvp against the fake server, and sums the trace lines of the
// measured run (after a warm-up run, which is not counted).
//
//   npm run build && node bench/gc-trace.js [kinds] [200B|8KB] [concurrency] [calls]
//   node bench/gc-trace.js core,raw,official 200B 64 40000        (the defaults)
//   BENCH_BASELINE=.tmp/baseline node bench/gc-trace.js baseline,core   (another build's dist/, see trigger-worker.js)
//
// Per client: scavenges and mark-compacts in the measured run, the mean bytes surviving a scavenge
// (new_space_survived) and promoted by it (promoted), promoted KB per 1,000 calls, and main-thread GC pause per call.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakePusherServer, stopAllChildren } from './processes.js';

const [kindsArg = 'core,raw,official', payload = '200B', concurrencyArg = '64', callsArg = '40000'] =
  process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const calls = Number(callsArg);

function traceOf(port, kind) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./trigger-worker.js', import.meta.url)), [String(port), kind], {
      execArgv: ['--trace-gc-nvp'],
      env: { ...process.env, BENCH_GC_MARKS: '1' },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    let name = kind;
    let result;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => (out += text));
    child.on('error', reject);
    child.on('exit', () => resolve({ name, result, lines: measuredLines(out) }));
    let step = 0;
    child.on('message', (msg) => {
      if (msg.type === 'ready') {
        name = msg.name;
        if (msg.unavailable) return child.send({ type: 'close' });
        child.send({ type: 'run', id: ++step, payload, concurrency, calls: Math.max(1000, calls / 2) });
      } else if (msg.type === 'done' && step === 1) {
        child.send({ type: 'run', id: ++step, payload, concurrency, calls });
      } else if (msg.type === 'done') {
        result = msg.result;
        child.send({ type: 'close' });
      }
    });
  });
}

/** The nvp lines between the last "### measure start" and the "### measure end" after it. */
function measuredLines(out) {
  const all = out.split('\n');
  const start = all.lastIndexOf('### measure start');
  const end = all.indexOf('### measure end', start);
  return all.slice(start + 1, end).filter((line) => line.includes(' gc='));
}

function field(line, name) {
  const m = new RegExp(`\\b${name}=([0-9.]+)`).exec(line);
  return m ? Number(m[1]) : NaN;
}

function summarize({ name, result, lines }) {
  const scavenges = lines.filter((l) => / gc=s\b/.test(l));
  const others = lines.length - scavenges.length;
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const survived = scavenges.map((l) => field(l, 'new_space_survived'));
  const promoted = scavenges.map((l) => field(l, 'promoted'));
  const pauses = lines.map((l) => field(l, 'pause'));
  return {
    name,
    reqPerSec: result ? Math.round(result.opsPerSec) : NaN,
    cpuMicrosPerCall: result?.cpuMicrosPerCall,
    scavenges: scavenges.length,
    markCompacts: others,
    meanSurvivedKB: mean(survived) / 1024,
    meanPromotedKB: mean(promoted) / 1024,
    promotedKBPer1kCalls: promoted.reduce((a, b) => a + b, 0) / 1024 / (calls / 1000),
    gcPauseMicrosPerCall: (pauses.reduce((a, b) => a + b, 0) * 1000) / calls,
    maxPauseMs: Math.max(0, ...pauses),
  };
}

const server = await startFakePusherServer();
try {
  console.log(
    `--trace-gc-nvp, ${payload}, concurrency ${concurrency}, ${calls} measured calls after ${Math.max(1000, calls / 2)} warm-up`,
  );
  const rows = [];
  for (const kind of kindsArg.split(',')) rows.push(summarize(await traceOf(server.port, kind)));
  const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');
  console.log(
    '| client | req/s | CPU µs/call | scavenges | mark-compacts | survived KB/scavenge | promoted KB/scavenge | promoted KB/1k calls | GC pause µs/call | max pause ms |',
  );
  console.log('|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.reqPerSec} | ${f(r.cpuMicrosPerCall)} | ${r.scavenges} | ${r.markCompacts} | ${f(r.meanSurvivedKB, 0)} | ${f(r.meanPromotedKB, 0)} | ${f(r.promotedKBPer1kCalls, 0)} | ${f(r.gcPauseMicrosPerCall)} | ${f(r.maxPauseMs)} |`,
    );
  }
} finally {
  await server.stop();
  stopAllChildren();
}
