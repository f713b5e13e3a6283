// Where does a trigger's client CPU go? Runs one client against the fake server under the V8 CPU profiler and prints
// self time per function, grouped by where the code lives (nest-pusher dist/, undici, node internals, ...).
//
//   npm run build && node bench/profile.js [core|service|official|raw|batching] [200B|8KB] [concurrency] [calls]
//   node bench/profile.js core 200B 64 100000      (defaults: core 200B 64 60000)
//   node bench/profile.js --summarize file.cpuprofile
//   node bench/profile.js --diff a.cpuprofile callsA b.cpuprofile callsB   (self µs per call, largest differences)
//
// The profile is written to the OS temp dir (nest-pusher-profiles/, never into the repo) and summarized: top functions by self time, and the
// total per area, so that a cost can be pinned to a file and function in lib/ (dist/ maps 1:1 to lib/).
import { Session } from 'node:inspector/promises';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { official, ourCore, ourService, rawUndici } from './clients.js';
import { PAYLOADS } from './fixtures.js';
import { runConcurrent } from './harness.js';
import { startFakePusherServer, stopAllChildren } from './processes.js';

function area(url) {
  if (!url) return '(native / GC / idle)';
  if (url.includes('/dist/')) return 'nest-pusher (dist → lib)';
  if (url.includes('node_modules/undici/')) return 'undici';
  if (url.includes('node_modules/pusher/')) return 'official pusher';
  if (url.includes('node_modules/node-fetch/')) return 'node-fetch';
  if (url.includes('node_modules/@nestjs/')) return '@nestjs';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^.*node_modules\//, '').split('/')[0] || 'other';
}

/** Self time in µs per function key ("name url:line"), idle excluded. */
function selfTimes(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const out = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const { callFrame } = nodes.get(profile.samples[i]);
    if (callFrame.functionName === '(idle)') continue;
    const where = callFrame.url
      ? `${callFrame.url.replace(/^file:\/\/.*?\/(dist|node_modules|bench)\//, '$1/')}:${callFrame.lineNumber + 1}`
      : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return out;
}

/** Per-call self-time difference between two profiles (e.g. nest-pusher core vs raw undici). */
export function diff(a, callsA, b, callsB, top = 40) {
  const ta = selfTimes(a);
  const tb = selfTimes(b);
  const keys = new Set([...ta.keys(), ...tb.keys()]);
  const rows = [...keys].map((k) => [k, (ta.get(k) ?? 0) / callsA, (tb.get(k) ?? 0) / callsB]);
  const sum = (i) => rows.reduce((acc, r) => acc + r[i], 0);
  const lines = [
    `busy µs per call: A ${sum(1).toFixed(1)}, B ${sum(2).toFixed(1)}, A - B ${(sum(1) - sum(2)).toFixed(1)}`,
    '',
    '  A-B µs    A µs    B µs  function',
  ];
  for (const [k, x, y] of rows.sort((r, q) => Math.abs(q[1] - q[2]) - Math.abs(r[1] - r[2])).slice(0, top)) {
    lines.push(`${(x - y).toFixed(2).padStart(8)} ${x.toFixed(2).padStart(7)} ${y.toFixed(2).padStart(7)}  ${k}`);
  }
  return lines.join('\n');
}

export function summarize(profile, top = 30) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
  }
  const byFunction = new Map();
  const byArea = new Map();
  let total = 0;
  for (const [id, micros] of self) {
    const { callFrame } = nodes.get(id);
    if (callFrame.functionName === '(idle)') continue;
    total += micros;
    const where = callFrame.url
      ? `${callFrame.url.replace(/^file:\/\/.*?\/(dist|node_modules|bench)\//, '$1/')}:${callFrame.lineNumber + 1}`
      : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const a = area(callFrame.url);
    byArea.set(a, (byArea.get(a) ?? 0) + micros);
  }
  const pct = (x) => `${((100 * x) / total).toFixed(1).padStart(5)}%`;
  const lines = [`busy samples: ${(total / 1000).toFixed(0)} ms`, '', 'by area:'];
  for (const [a, m] of [...byArea].sort((x, y) => y[1] - x[1])) lines.push(`  ${pct(m)}  ${a}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [f, m] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(m)}  ${f}`);
  return lines.join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--diff') {
    const load = (f) => JSON.parse(readFileSync(f, 'utf8'));
    console.log(diff(load(args[1]), Number(args[2]), load(args[3]), Number(args[4]), Number(args[5] ?? 40)));
    return;
  }
  if (args[0] === '--summarize') {
    console.log(summarize(JSON.parse(readFileSync(args[1], 'utf8')), Number(args[2] ?? 30)));
    return;
  }
  const [which = 'core', payload = '200B', concurrency = '64', calls = '60000'] = args;
  const server = await startFakePusherServer();
  let client;
  try {
    const make = {
      core: () => ourCore(server.port),
      service: () => ourService(server.port),
      official: () => official(server.port),
      raw: () => rawUndici(server.port),
      batching: () => ourCore(server.port, { batching: true }),
    }[which];
    if (!make) throw new Error(`unknown client ${which}`);
    client = await make();
    if (client.unavailable) throw new Error(client.unavailable);
    const data = PAYLOADS[payload];
    const c = Number(concurrency);
    const n = Number(calls);
    await runConcurrent(() => client.trigger(data), Math.max(1000, n / 4), c); // warm-up, unprofiled
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const result = await runConcurrent(() => client.trigger(data), n, c);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const dir = join(tmpdir(), 'nest-pusher-profiles');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${which}-${payload}-c${c}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    console.log(
      `${which} ${payload} c=${c}: ${Math.round(result.opsPerSec)} calls/s, ${result.cpuMicrosPerCall.toFixed(1)} µs CPU/call, ` +
        `${result.errors} errors (profiling on)\nprofile: ${file}\n`,
    );
    console.log(summarize(profile));
  } finally {
    await client?.close?.();
    await server.stop();
    stopAllChildren();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
