// nest-pusher benchmarks: trigger, auth, webhook and memory, against the official `pusher` client (5.3.4) and raw
// undici, all in one run on this machine.
//
// HOW TO RUN
//   npm run bench                 builds lib/ to dist/, then runs everything (about 4-5 minutes on 2 cores)
//   node bench/run.js --quick     short smoke run (1/5 of the calls, 2 rounds); writes bench/results.local.json
//   node bench/run.js --rounds 7  more rounds;  --only trigger,auth,webhook,memory  runs some sections only
//   A full run writes bench/results.json (a --quick or --only run writes bench/results.local.json instead).
//
// WHAT RUNS
//   A fake Pusher HTTP API (bench/fake-pusher-server.js) runs in a separate process on 127.0.0.1, keep-alive, and
//   answers POST /apps/:id/events and /batch_events with 200 {}. It first checks the signature of a request from every
//   client (so every client is known to send valid, signed requests), then stops checking, so that it is not the
//   bottleneck. Sections, each in interleaved rounds (A B C D, B C D A, ...: every cell once per round, the starting
//   cell rotating; the table shows the median of the rounds):
//   1. trigger at concurrency 1 and 64, payload 200 B and 8 KB: nest-pusher core, PusherService (Nest application
//      context), the official client, raw undici (pre-built body and pre-signed URL: no JSON, no signing, the floor);
//      plus nest-pusher core with `batching: true` at concurrency 64, in events/s. Each client lives in its own
//      process (bench/trigger-worker.js), so its JIT, heap and CPU accounting are its own; this process orchestrates.
//   2. authorizeChannel (private, presence), authenticateUser, validateWebhook: ops/s, ours vs the official client
//      (runs first, in a fresh process).
//   3. memory: 200,000 triggers through one core client in a child process with --expose-gc: heap/RSS growth per
//      10,000 calls after warm-up (least-squares slope over samples taken after a full GC every 10,000 calls).
//   4. the built-in webhook route end to end: a Nest app (Express, rawBody) in a child process; signed POSTs through
//      guard + dispatch to one @OnPusherEvent handler, load from undici at concurrency 32; compared with the route an
//      app writes by hand with the official client, and with a bare Nest route (floor).
//
// HOW TO READ THE NUMBERS
//   ops/s          calls (or requests, or events for batching) completed per second of wall time
//   CPU µs/call    CPU of the client's whole process (user + system, every thread: process.cpuUsage is
//                  getrusage(RUSAGE_SELF), which counts V8's GC helper threads) divided by calls; the server is in
//                  another process, so this is the client's own cost. For the webhook route it is the Nest app's
//                  process (the server under test), read over IPC before and after each cell.
//   GC pause µs    main-thread GC pauses per call (perf_hooks 'gc' entries)
//   other thr. µs  CPU per call of threads other than the JS thread (mostly V8's GC helpers; /proc, 10 ms ticks)
//   No forced GC anywhere: a gc() before each cell made the official client re-optimise its code and cost it about
//   twice its steady-state CPU for the next few thousand calls. bench/gc-trace.js gives V8's scavenge figures.
//   ×official      ops/s divided by the official client's ops/s in the same configuration (same run, same rounds)
//   ×raw undici    ops/s divided by raw undici's ops/s in the same configuration: 1.0 means "as fast as the transport"
//   signed floor   raw undici plus the protocol's mandatory work done the plain way with node:crypto (JSON twice, MD5,
//                  HMAC): the floor for any client that signs; "CPU n× signed floor" is ours over it
//   --baseline DIR adds "nest-pusher core (before)": another build (DIR/dist, DIR/package.json) in the same rounds,
//                  and "nest-pusher built-in route (before)": that build's webhook route, in an app of its own.
//   Targets (issues 5 and 14) are printed after the table with PASS/FAIL; they are reported, never asserted. Primary targets
//   use the 200 B payload; "(info)" rows apply the same thresholds to 8 KB, where the raw-undici floor skips
//   protocol-mandated work (two JSON encodings and the MD5 of an 8 KB body).
//   The load average at start and end is printed: on a busy machine wall-clock numbers drop, ratios much less.
//   On 2 cores the client and the fake server each get about one core; the fake server's own ceiling caps every
//   client at c=64, which is why raw undici is the reference for "as fast as it can be".
import { cpus, totalmem, platform, release, arch, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import OfficialPusher from 'pusher';
import { median, runConcurrent, runSync, slope } from './harness.js';
import { startChild, startFakePusherServer, stopAllChildren } from './processes.js';
import { ourCore } from './clients.js';
import {
  APP,
  PAYLOADS,
  PRESENCE_CHANNEL,
  PRESENCE_DATA,
  PRIVATE_CHANNEL,
  SOCKET_ID,
  USER_DATA,
  WEBHOOK_EVENTS,
  signedWebhook,
} from './fixtures.js';

// ---------------------------------------------------------------------------------------------------------------
// Options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const QUICK = flag('--quick');
// Another build of nest-pusher (a directory with its dist/ and package.json, e.g. the code before a change) measured
// as one more contender in the same rounds: before and after from the same run.
const BASELINE = value('--baseline', '');
const ROUNDS = Number(value('--rounds', QUICK ? 2 : 5));
const ONLY = value('--only', '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const runs = (section) => ONLY.length === 0 || ONLY.includes(section);
const SCALE = QUICK ? 0.2 : 1;
const n = (calls) => Math.max(200, Math.round(calls * SCALE));
const OUT = fileURLToPath(new URL(QUICK || ONLY.length ? './results.local.json' : './results.json', import.meta.url));

// Calls per cell and round (before SCALE). Chosen so that a full run stays under ~5 minutes on 2 cores.
const COUNTS = {
  trigger: { 1: 3_000, 64: 10_000 },
  // Batching cells run more events (they are that much faster) so that each cell lasts about as long as the others.
  batchingFactor: { '200B': 6, '8KB': 2 },
  auth: 100_000,
  webhook: 5_000,
  memory: { total: 200_000, warmup: 20_000, every: 10_000 },
};

const log = (...a) => console.error(...a);
const LOAD_AT_START = loadavg().map((x) => Number(x.toFixed(2)));

// ---------------------------------------------------------------------------------------------------------------
// Results
/** name -> { name, section, group, kind, samples: [{opsPerSec, cpuMicrosPerCall}], extra } */
const cells = new Map();
function record(key, meta, result) {
  let c = cells.get(key);
  if (!c) cells.set(key, (c = { ...meta, samples: [], errors: 0 }));
  if (result.errors) {
    c.errors += result.errors;
    c.firstError ??= String(result.firstError?.message ?? result.firstError);
  }
  c.samples.push({
    opsPerSec: result.opsPerSec,
    cpuMicrosPerCall: result.cpuMicrosPerCall,
    otherThreadsMicrosPerCall: result.otherThreadsMicrosPerCall,
    gcPauseMicrosPerCall: result.gcPauseMicrosPerCall,
    ...(result.extra ?? {}),
  });
}
const unavailable = [];
const checks = [];

// ---------------------------------------------------------------------------------------------------------------
// 1 + 5. Trigger (and batching) rounds. Each client runs in its own process (bench/trigger-worker.js); this process
// only orchestrates the rounds, so every client has a clean JIT/heap and its own CPU accounting.
let nextId = 0;
async function startWorker(port, kind) {
  const env = BASELINE ? { BENCH_BASELINE: BASELINE } : {};
  const child = await startChild('./trigger-worker.js', { readyType: 'ready', args: [String(port), kind], env });
  const call = async (msg) => (await child.request({ ...msg, id: ++nextId }, 'done')).result;
  return {
    name: child.ready.name,
    unavailable: child.ready.unavailable,
    run: (payload, concurrency, calls) => call({ type: 'run', payload, concurrency, calls }),
    burst: (payload, count) => call({ type: 'burst', payload, count }),
    stop: () => child.stop(),
  };
}

// 0. Correctness gate: every client's requests are verified by the fake server once.
async function verifyClients(server, clients, batching) {
  await server.configure({ verify: true, ...APP });
  await server.reset();
  for (const c of clients) {
    const before = await server.stats();
    let error = '';
    for (const payload of ['200B', '8KB']) {
      const r = await c.run(payload, 1, 1);
      if (r.errors) error ||= r.firstError;
    }
    const after = await server.stats();
    const rejected = after.rejected - before.rejected;
    const ok = !error && rejected === 0 && after.events - before.events === 2;
    checks.push({
      check: `${c.name}: 2 signed triggers accepted by the verifying server`,
      ok,
      detail: error || after.lastError,
    });
  }
  if (batching) {
    const before = await server.stats();
    const { error } = await batching.burst('200B', 25);
    const after = await server.stats();
    const events = after.events - before.events;
    const batches = after.batchRequests - before.batchRequests;
    checks.push({
      check: `${batching.name}: 25 same-tick triggers -> ${batches} /batch_events requests, ${events} events accepted`,
      ok: !error && after.rejected === before.rejected && events === 25 && batches === 3,
      detail: error || (after.rejected !== before.rejected ? after.lastError : ''),
    });
  }
  await server.configure({ verify: false });
}

async function triggerSection(server, port) {
  const kinds = ['core', ...(BASELINE ? ['baseline'] : []), 'service', 'official', 'raw', 'signed'];
  const workers = [];
  try {
    for (const kind of [...kinds, 'batching']) workers.push(await startWorker(port, kind));
    const all = workers.slice(0, kinds.length);
    const batching = workers[kinds.length];
    for (const w of workers) if (w.unavailable) unavailable.push(`${w.name}: ${w.unavailable}`);
    const usable = all.filter((c) => !c.unavailable);
    await verifyClients(server, usable, batching.unavailable ? null : batching);

    const configs = [];
    for (const concurrency of [1, 64]) for (const payload of ['200B', '8KB']) configs.push({ concurrency, payload });

    const cellsOf = ({ concurrency, payload }) => {
      const list = usable.map((client) => ({ client, calls: n(COUNTS.trigger[concurrency]), unit: 'req/s' }));
      if (concurrency === 64 && !batching.unavailable) {
        list.push({
          client: batching,
          calls: n(COUNTS.trigger[concurrency] * COUNTS.batchingFactor[payload]),
          unit: 'events/s',
        });
      }
      return list.map((x) => ({ ...x, concurrency, payload }));
    };

    const runCell = async ({ client, calls, concurrency, payload, unit }, measure) => {
      const before = measure && client === batching ? await server.stats() : null;
      const result = await client.run(payload, concurrency, calls);
      if (!measure) return;
      if (before) {
        const after = await server.stats();
        const requests = after.requests - before.requests;
        result.extra = { eventsPerRequest: requests ? calls / requests : NaN };
      }
      record(
        `trigger ${client.name} c=${concurrency} ${payload}`,
        {
          name: `trigger c=${concurrency} ${payload} · ${client.name}`,
          section: 'trigger',
          unit,
          client: client.name,
          concurrency,
          payload,
        },
        result,
      );
    };

    // Warm-up: every cell once at half its size (JIT, connection pools), not recorded.
    log('trigger: warm-up');
    for (const cfg of configs)
      for (const cell of cellsOf(cfg)) await runCell({ ...cell, calls: Math.max(200, cell.calls / 2) }, false);
    for (let round = 1; round <= ROUNDS; round++) {
      log(`trigger: round ${round}/${ROUNDS}`);
      // Same cells every round; the starting client rotates so that no client always runs right after another's
      // cell.
      for (const cfg of configs) {
        const list = cellsOf(cfg);
        for (let i = 0; i < list.length; i++) await runCell(list[(i + round - 1) % list.length], true);
      }
    }
  } finally {
    for (const w of workers) await w.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Auth and webhook validation (synchronous, no I/O).
async function authSection(port) {
  const ours = await ourCore(port);
  if (ours.unavailable) unavailable.push(`auth ops (nest-pusher core): ${ours.unavailable}`);
  const off = new OfficialPusher({
    appId: APP.appId,
    key: APP.key,
    secret: APP.secret,
    host: '127.0.0.1',
    port,
    useTLS: false,
  });
  const webhook = signedWebhook(WEBHOOK_EVENTS);
  const officialHeaders = {
    'x-pusher-key': webhook.key,
    'x-pusher-signature': webhook.signature,
    'content-type': 'application/json',
  };
  const ops = [
    {
      op: 'authorizeChannel private',
      ours: () => ours.pusher.authorizeChannel(SOCKET_ID, PRIVATE_CHANNEL),
      official: () => off.authorizeChannel(SOCKET_ID, PRIVATE_CHANNEL),
    },
    {
      op: 'authorizeChannel presence',
      ours: () => ours.pusher.authorizeChannel(SOCKET_ID, PRESENCE_CHANNEL, PRESENCE_DATA),
      official: () => off.authorizeChannel(SOCKET_ID, PRESENCE_CHANNEL, PRESENCE_DATA),
    },
    {
      op: 'authenticateUser',
      ours: () => ours.pusher.authenticateUser(SOCKET_ID, USER_DATA),
      official: () => off.authenticateUser(SOCKET_ID, USER_DATA),
    },
    {
      op: 'validateWebhook',
      ours: () => ours.pusher.validateWebhook({ key: webhook.key, signature: webhook.signature, body: webhook.body }),
      official: () => off.webhook({ headers: officialHeaders, rawBody: webhook.body }).isValid(),
    },
  ];
  // Same answers first: a fast wrong answer is not a result.
  if (!ours.unavailable) {
    for (const { op, ours: a, official: b } of ops) {
      let ok;
      let detail = '';
      try {
        const x = a();
        const y = b();
        ok =
          op === 'validateWebhook'
            ? Boolean(x) && y === true
            : x.auth === y.auth && (x.channel_data ?? x.user_data) === (y.channel_data ?? y.user_data);
        if (!ok) detail = `ours ${JSON.stringify(x)} vs official ${JSON.stringify(y)}`;
      } catch (err) {
        ok = false;
        detail = String(err?.message ?? err);
      }
      checks.push({ check: `${op}: same answer as the official client`, ok, detail });
    }
  }
  const impls = ['ours', 'official'].filter((who) => who === 'official' || !ours.unavailable);
  const calls = n(COUNTS.auth);
  log('auth: warm-up');
  for (const o of ops) for (const who of impls) runSync(o[who], Math.max(50, calls / 5));
  for (let round = 1; round <= ROUNDS; round++) {
    log(`auth: round ${round}/${ROUNDS}`);
    for (const o of ops) {
      for (const who of round % 2 ? impls : [...impls].reverse()) {
        let result;
        try {
          result = runSync(o[who], calls);
        } catch (err) {
          result = { opsPerSec: NaN, cpuMicrosPerCall: NaN, errors: 1, firstError: err };
        }
        const client = who === 'ours' ? 'nest-pusher core' : 'official pusher 5.3.4';
        record(
          `auth ${o.op} ${who}`,
          { name: `${o.op} · ${client}`, section: 'auth', unit: 'ops/s', client, op: o.op },
          result,
        );
      }
    }
  }
  if (!ours.unavailable) await ours.close();
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Webhook route end to end.
async function webhookSection() {
  // Each route in an app of its own (its own process, JIT, heap and route table); with --baseline the other build's
  // built-in route too, all loaded in the same rounds.
  const routes = [
    { route: 'builtIn', path: '/pusher/webhooks', client: 'nest-pusher built-in route', counter: 'builtIn' },
    {
      route: 'official',
      path: '/official/webhooks',
      client: 'official pusher 5.3.4, hand-written route',
      counter: 'official',
    },
    { route: 'floor', path: '/floor/webhooks', client: 'bare Nest route, no verification (floor)', counter: 'floor' },
    ...(BASELINE
      ? [
          {
            route: 'builtIn',
            path: '/pusher/webhooks',
            client: 'nest-pusher built-in route (before)',
            counter: 'builtIn',
            baseline: true,
          },
        ]
      : []),
  ];
  try {
    for (const r of routes) {
      r.app = await startChild('./webhook-app.js', {
        env: { BENCH_WEBHOOK_ROUTE: r.route, ...(r.baseline ? { BENCH_BASELINE: BASELINE } : {}) },
      });
      r.pool = new Pool(`http://127.0.0.1:${r.app.ready.port}`, { connections: 32, pipelining: 1 });
    }
  } catch (err) {
    unavailable.push(`webhook route: ${String(err?.message ?? err)}`);
    for (const r of routes) {
      await r.pool?.close();
      await r.app?.stop();
    }
    return;
  }
  const builtIn = routes[0];
  const app = builtIn.app;
  const pool = builtIn.pool;
  const hook = signedWebhook([{ name: 'channel_occupied', channel: 'presence-bench-room' }]);
  const headers = {
    'content-type': 'application/json',
    'x-pusher-key': hook.key,
    'x-pusher-signature': hook.signature,
  };
  const post =
    (path, h = headers, target = pool) =>
    async () => {
      const res = await target.request({ method: 'POST', path, headers: h, body: hook.body });
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode >= 300)
        throw new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    };
  // Every timed POST is a new delivery, as Pusher sends them: one body repeated would be a redelivery, which the
  // built-in route answers from its duplicate store without running the handler. Signed before the cell starts.
  let sequence = 0;
  const deliveries = (count) =>
    Array.from({ length: count }, () =>
      signedWebhook([{ name: 'channel_occupied', channel: `presence-bench-room-${++sequence}` }]),
    );
  const postDeliveries = (r, count) => {
    const hooks = deliveries(count);
    const target = r.pool;
    let next = 0;
    return async () => {
      const { body, key, signature } = hooks[next++];
      const res = await target.request({
        method: 'POST',
        path: r.path,
        headers: { 'content-type': 'application/json', 'x-pusher-key': key, 'x-pusher-signature': signature },
        body,
      });
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode >= 300)
        throw new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    };
  };
  try {
    // Correctness: a signed POST reaches the handler; a forged one is refused and reaches none.
    const c0 = (await app.request({ type: 'stats' }, 'stats')).counters;
    let signedOk = true;
    let forgedRefused = false;
    try {
      await post('/pusher/webhooks')();
    } catch (err) {
      signedOk = String(err.message);
    }
    try {
      await post('/pusher/webhooks', { ...headers, 'x-pusher-signature': '0'.repeat(64) })();
    } catch (err) {
      forgedRefused = /HTTP 401/.test(err.message) ? true : String(err.message);
    }
    const c1 = (await app.request({ type: 'stats' }, 'stats')).counters;
    checks.push({
      check: 'webhook route: signed POST -> 2xx and one handler call; forged POST -> 401 and no handler call',
      ok: signedOk === true && forgedRefused === true && c1.builtIn - c0.builtIn === 1,
      detail: [
        signedOk === true ? '' : `signed: ${signedOk}`,
        forgedRefused === true ? '' : `forged: ${forgedRefused}`,
        `handler calls ${c1.builtIn - c0.builtIn}`,
      ]
        .filter(Boolean)
        .join('; '),
    });

    const calls = n(COUNTS.webhook);
    log('webhook: warm-up');
    const appOf = (r) => r.app;
    for (const r of routes)
      await runConcurrent(postDeliveries(r, Math.max(50, calls / 5)), Math.max(50, calls / 5), 32);
    const before = (await app.request({ type: 'stats' }, 'stats')).counters;
    let builtInOk = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      log(`webhook: round ${round}/${ROUNDS}`);
      for (let i = 0; i < routes.length; i++) {
        const r = routes[(i + round - 1) % routes.length];
        const send = postDeliveries(r, calls);
        const stats0 = await appOf(r).request({ type: 'stats' }, 'stats');
        const result = await runConcurrent(send, calls, 32);
        const stats1 = await appOf(r).request({ type: 'stats' }, 'stats');
        // The server's CPU is what the route costs; the load generator's is not interesting.
        result.cpuMicrosPerCall = (stats1.cpuMicros - stats0.cpuMicros) / calls;
        // The app's threads other than the JS thread: mostly V8's GC helpers.
        result.otherThreadsMicrosPerCall =
          (stats1.cpuMicros - stats0.cpuMicros - (stats1.mainCpuMicros - stats0.mainCpuMicros)) / calls;
        result.gcPauseMicrosPerCall = NaN;
        if (r === builtIn) builtInOk += calls - result.errors;
        record(
          `webhook ${r.baseline ? 'baseline' : r.counter}`,
          { name: `webhook POST c=32 · ${r.client}`, section: 'webhook', unit: 'req/s', client: r.client },
          result,
        );
      }
    }
    const after = (await app.request({ type: 'stats' }, 'stats')).counters;
    checks.push({
      check: 'webhook route: every 2xx POST of the timed rounds reached the @OnPusherEvent handler exactly once',
      ok: after.builtIn - before.builtIn === builtInOk,
      detail: `${after.builtIn - before.builtIn} handler calls for ${builtInOk} accepted POSTs`,
    });
  } finally {
    for (const r of routes) {
      await r.pool.close();
      await r.app.stop();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Memory.
let memory = null;
async function memorySection(port) {
  const { total, warmup, every } = COUNTS.memory;
  const args = [port, n(total), n(warmup), n(every), 0].map(String);
  log(`memory: ${n(total)} triggers after ${n(warmup)} warm-up, sample every ${n(every)}`);
  let msg;
  try {
    const child = await startChild('./memory-child.js', { execArgv: ['--expose-gc'], readyType: 'result', args });
    msg = child.ready;
    await child.stop();
  } catch (err) {
    msg = { error: String(err?.message ?? err) };
  }
  if (msg.error) {
    unavailable.push(`memory: ${msg.error.split('\n')[0]}`);
    return;
  }
  const s = msg.samples;
  const xs = s.map((x) => x.calls / 10_000);
  const first = s[0];
  const last = s[s.length - 1];
  memory = {
    triggers: last.calls,
    warmup: n(warmup),
    heapGrowthBytesPer10k: slope(
      xs,
      s.map((x) => x.heapUsed),
    ),
    rssGrowthBytesPer10k: slope(
      xs,
      s.map((x) => x.rss),
    ),
    heapStartBytes: first.heapUsed,
    heapEndBytes: last.heapUsed,
    rssStartBytes: first.rss,
    rssEndBytes: last.rss,
    samples: s,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Report
function summarize() {
  const rows = [];
  for (const c of cells.values()) {
    rows.push({
      name: c.name,
      section: c.section,
      unit: c.unit,
      client: c.client,
      concurrency: c.concurrency,
      payload: c.payload,
      op: c.op,
      opsPerSec: median(c.samples.map((s) => s.opsPerSec)),
      cpuMicrosPerCall: median(c.samples.map((s) => s.cpuMicrosPerCall)),
      otherThreadsMicrosPerCall: median(c.samples.map((s) => s.otherThreadsMicrosPerCall)),
      gcPauseMicrosPerCall: median(c.samples.map((s) => s.gcPauseMicrosPerCall)),
      cpuMicrosPerCallByRound: c.samples.map((s) => Number(s.cpuMicrosPerCall.toFixed(1))),
      eventsPerRequest:
        c.samples[0]?.eventsPerRequest !== undefined ? median(c.samples.map((s) => s.eventsPerRequest)) : undefined,
      rounds: c.samples.length,
      opsPerSecByRound: c.samples.map((s) => Math.round(s.opsPerSec)),
      errors: c.errors,
      firstError: c.firstError,
      ratioToOfficial: null,
      ratioToRawUndici: null,
      cpuRatioToOfficial: null,
      cpuRatioToRawUndici: null,
      cpuRatioToSignedFloor: null,
    });
  }
  const find = (pred) => rows.find(pred);
  for (const r of rows) {
    let off;
    let raw;
    if (r.section === 'trigger') {
      off = find(
        (x) =>
          x.section === 'trigger' &&
          x.client.startsWith('official') &&
          x.concurrency === r.concurrency &&
          x.payload === r.payload,
      );
      raw = find(
        (x) =>
          x.section === 'trigger' &&
          x.client.startsWith('raw undici') &&
          x.concurrency === r.concurrency &&
          x.payload === r.payload,
      );
    } else if (r.section === 'auth') {
      off = find((x) => x.section === 'auth' && x.client.startsWith('official') && x.op === r.op);
    } else if (r.section === 'webhook') {
      off = find((x) => x.section === 'webhook' && x.client.startsWith('official'));
    }
    if (off) {
      r.ratioToOfficial = r.opsPerSec / off.opsPerSec;
      r.cpuRatioToOfficial = r.cpuMicrosPerCall / off.cpuMicrosPerCall;
    }
    if (raw) {
      r.ratioToRawUndici = r.opsPerSec / raw.opsPerSec;
      r.cpuRatioToRawUndici = r.cpuMicrosPerCall / raw.cpuMicrosPerCall;
    }
    const signed =
      r.section === 'trigger' &&
      find(
        (x) =>
          x.section === 'trigger' &&
          x.client.startsWith('signed floor') &&
          x.concurrency === r.concurrency &&
          x.payload === r.payload,
      );
    if (signed) r.cpuRatioToSignedFloor = r.cpuMicrosPerCall / signed.cpuMicrosPerCall;
  }
  return rows;
}

function targets(rows) {
  // Primary targets are judged on the 200 B payload (a typical event). The same thresholds on 8 KB are shown as
  // "info": there the raw-undici floor skips work the protocol makes mandatory for any client (two JSON encodings
  // and the MD5 of an 8 KB body), and batching moves 80 KB per request.
  const t = [];
  const add = (target, actual, pass, primary, detail = '') =>
    t.push({
      target,
      primary,
      actual: Number.isFinite(actual) ? Number(actual.toFixed(3)) : null,
      // null: not measured in this run (a section left out with --only, or a contender that could not run).
      pass: Number.isFinite(actual) ? pass(actual) : null,
      detail,
    });
  const trig = (client, concurrency, payload) =>
    rows.find(
      (x) => x.section === 'trigger' && x.client === client && x.concurrency === concurrency && x.payload === payload,
    );
  // Issue 14: at the transport's floor. Judged on 200 B (a typical event); 8 KB is "info": there the raw floor skips
  // work the protocol makes mandatory for any client (two JSON encodings and the MD5 of an 8 KB body).
  for (const payload of ['200B', '8KB']) {
    const primary = payload === '200B';
    for (const client of ['nest-pusher core', 'nest-pusher PusherService']) {
      for (const concurrency of [64, 1]) {
        const r = trig(client, concurrency, payload);
        add(
          `trigger c=${concurrency} ${payload} ${client}: >= 0.95x raw undici req/s`,
          r?.ratioToRawUndici ?? NaN,
          (v) => v >= 0.95,
          primary,
        );
        add(
          `trigger c=${concurrency} ${payload} ${client}: CPU/call <= 1.15x raw undici`,
          r?.cpuRatioToRawUndici ?? NaN,
          (v) => v <= 1.15,
          primary,
        );
        // Not an issue target: the same bound against a floor that does the protocol's work too (info).
        add(
          `trigger c=${concurrency} ${payload} ${client}: CPU/call <= 1.15x signed floor`,
          r?.cpuRatioToSignedFloor ?? NaN,
          (v) => v <= 1.15,
          false,
        );
      }
      const r = trig(client, 64, payload);
      add(
        `CPU per trigger c=64 ${payload} ${client}: <= 0.35x official`,
        r?.cpuRatioToOfficial ?? NaN,
        (v) => v <= 0.35,
        primary,
      );
    }
  }
  const auth = (op) => rows.find((x) => x.section === 'auth' && x.client === 'nest-pusher core' && x.op === op);
  add(
    'validateWebhook: >= 2.5x official ops/s',
    auth('validateWebhook')?.ratioToOfficial ?? NaN,
    (v) => v >= 2.5,
    true,
  );
  add(
    'authorizeChannel private: >= 1.3x official ops/s',
    auth('authorizeChannel private')?.ratioToOfficial ?? NaN,
    (v) => v >= 1.3,
    true,
  );
  add(
    'authorizeChannel presence: >= 1.3x official ops/s',
    auth('authorizeChannel presence')?.ratioToOfficial ?? NaN,
    (v) => v >= 1.3,
    true,
  );
  for (const payload of ['200B', '8KB']) {
    const r = trig('nest-pusher core, batching: true', 64, payload);
    add(
      `batching c=64 ${payload}: >= 10x official events/s`,
      r?.ratioToOfficial ?? NaN,
      (v) => v >= 10,
      payload === '200B',
    );
  }
  // Issue 14: the built-in webhook route at least as fast as a hand-written route with the official client.
  const webhook = (client) => rows.find((x) => x.section === 'webhook' && x.client === client);
  const builtInRoute = webhook('nest-pusher built-in route');
  const officialRoute = webhook('official pusher 5.3.4, hand-written route');
  add(
    'webhook route: built-in >= 1.0x the official hand-written route req/s',
    builtInRoute?.ratioToOfficial ?? NaN,
    (v) => v >= 1,
    true,
  );
  add(
    'webhook route: built-in CPU/request <= the official hand-written route',
    builtInRoute && officialRoute ? builtInRoute.cpuMicrosPerCall / officialRoute.cpuMicrosPerCall : NaN,
    (v) => v <= 1,
    true,
    'x official',
  );
  // "Flat": at most 64 KB of retained heap per 10,000 calls (under 7 bytes per call); a leak of one small object per
  // call would show as 500 KB or more. Not tighter: the same build measured from -20 KB to +44 KB across runs on
  // a 2-core machine (V8's own allocations after warm-up move the slope by that much).
  add(
    'memory: heap growth per 10,000 triggers <= 64 KB (flat)',
    memory ? memory.heapGrowthBytesPer10k / 1024 : NaN,
    (v) => v <= 64,
    true,
    memory ? 'KB per 10k calls' : 'not measured',
  );
  return t;
}

const fmtNum = (v, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '—'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtRatio = (v) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(2)}×`);

function table(rows) {
  const header = [
    'name',
    'ops/s',
    'unit',
    'CPU µs/call',
    'GC pause µs',
    'other thr. µs',
    '×official',
    '×raw undici',
    'note',
  ];
  const body = rows.map((r) => [
    r.name,
    fmtNum(r.opsPerSec),
    r.unit,
    fmtNum(r.cpuMicrosPerCall, 2),
    fmtNum(r.gcPauseMicrosPerCall, 2),
    fmtNum(r.otherThreadsMicrosPerCall, 1),
    fmtRatio(r.ratioToOfficial),
    fmtRatio(r.ratioToRawUndici),
    [
      r.eventsPerRequest !== undefined ? `${fmtNum(r.eventsPerRequest, 1)} events/request` : '',
      r.errors ? `${r.errors} ERRORS: ${r.firstError}` : '',
      r.cpuRatioToOfficial !== null && r.section === 'trigger' && !r.client.startsWith('official')
        ? `CPU ${r.cpuRatioToOfficial.toFixed(2)}× official`
        : '',
      r.cpuRatioToRawUndici !== null && !r.client.startsWith('raw')
        ? `CPU ${r.cpuRatioToRawUndici.toFixed(2)}× raw`
        : '',
      r.cpuRatioToSignedFloor !== null && r.client.startsWith('nest-pusher') && !r.client.includes('batching')
        ? `CPU ${r.cpuRatioToSignedFloor.toFixed(2)}× signed floor`
        : '',
    ]
      .filter(Boolean)
      .join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const left = (i) => i === 0 || i === 2 || i === header.length - 1;
  const line = (cols) =>
    '| ' + cols.map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [
    line(header),
    '|' + widths.map((w, i) => (left(i) ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|',
    ...body.map(line),
  ].join('\n');
}

function machine() {
  const c = cpus();
  return {
    cpuModel: c[0]?.model ?? 'unknown',
    cpuCount: c.length,
    totalMemoryBytes: totalmem(),
    platform: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    // Other work on the machine skews wall-clock numbers (ratios within a round much less): recorded for the reader.
    loadAverageAtStart: LOAD_AT_START,
    loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

// ---------------------------------------------------------------------------------------------------------------
async function main() {
  const started = Date.now();
  const server = await startFakePusherServer();
  log(`fake Pusher server pid ${server.pid} on 127.0.0.1:${server.port}; ${ROUNDS} rounds${QUICK ? ' (--quick)' : ''}`);
  try {
    // Auth first: in a process that has already run the trigger section, nest-pusher's authorizeChannel measured
    // ~25% slower (JIT state left by the other call paths), the official client's not; a fresh process is fairer.
    if (runs('auth')) await authSection(server.port);
    if (runs('trigger')) await triggerSection(server, server.port);
    if (runs('webhook')) await webhookSection();
    if (runs('memory')) await memorySection(server.port);
  } finally {
    await server.stop();
  }
  const rows = summarize();
  const t = targets(rows);
  const info = machine();
  const seconds = (Date.now() - started) / 1000;

  const out = [];
  out.push(`nest-pusher benchmark — ${info.date}`);
  out.push(
    `machine: ${info.cpuCount} × ${info.cpuModel}, ${(info.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${info.platform}, Node ${info.node}`,
  );
  out.push(
    `load average (1/5/15 min): ${info.loadAverageAtStart.join(' ')} at start, ${info.loadAverageAtEnd.join(' ')} at end (${info.cpuCount} cores)`,
  );
  out.push(
    `command: node bench/run.js ${argv.join(' ')}`.trim() +
      ` — ${ROUNDS} rounds, median shown, ${seconds.toFixed(0)} s`,
  );
  out.push('');
  out.push(table(rows));
  if (memory) {
    out.push('');
    out.push(
      `memory (nest-pusher core, c=64, ${fmtNum(memory.triggers)} triggers after ${fmtNum(memory.warmup)} warm-up): ` +
        `heap ${fmtNum(memory.heapGrowthBytesPer10k / 1024, 1)} KB per 10k calls ` +
        `(${fmtNum(memory.heapStartBytes / 2 ** 20, 1)} → ${fmtNum(memory.heapEndBytes / 2 ** 20, 1)} MB), ` +
        `RSS ${fmtNum(memory.rssGrowthBytesPer10k / 1024, 1)} KB per 10k calls ` +
        `(${fmtNum(memory.rssStartBytes / 2 ** 20, 1)} → ${fmtNum(memory.rssEndBytes / 2 ** 20, 1)} MB)`,
    );
  }
  out.push('');
  out.push('checks:');
  for (const c of checks)
    out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}${c.detail && !c.ok ? ` — ${c.detail}` : ''}`);
  if (unavailable.length) {
    out.push('');
    out.push('not measured:');
    for (const u of unavailable) out.push(`  ${u}`);
  }
  out.push('');
  out.push('targets (issues 5 and 14; reported, not asserted):');
  for (const x of t) {
    if (x.pass === null) {
      out.push(`  n/a         ${x.target} — not measured in this run`);
      continue;
    }
    const verdict = x.pass ? 'PASS' : 'FAIL';
    out.push(
      `  ${x.primary ? verdict + '       ' : verdict + ' (info)'} ${x.target} — actual ${x.actual}${x.detail ? ` ${x.detail}` : ''}`,
    );
  }
  console.log(out.join('\n'));

  const json = {
    machine: info,
    command: `node bench/run.js ${argv.join(' ')}`.trim(),
    rounds: ROUNDS,
    quick: QUICK,
    durationSeconds: Math.round(seconds),
    targets: t,
    checks,
    unavailable,
    memory,
    results: rows.map(({ firstError, ...r }) => ({ ...r, ...(r.errors ? { firstError } : {}) })),
  };
  writeFileSync(OUT, JSON.stringify(json, null, 2) + '\n');
  log(`wrote ${OUT}`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    stopAllChildren();
    // Undici pools and Nest contexts are closed above; leave nothing keeping the process alive.
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  });
