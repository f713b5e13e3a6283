// Scale figure: events per second through two replicas of a Nest app vs one, in the same run.
//
// HOW TO RUN
//   npm run build && node bench/replicas.js            (about 1 minute on 2 cores; --rounds N, --calls N)
//
// WHAT RUNS
//   The fake Pusher HTTP API (bench/fake-pusher-server.js, its own process), and two replicas of a Nest app
//   (bench/replica-app.js, one process each) whose POST /orders triggers one 200 B event through PusherService and
//   answers once the API accepted it. The load generator (this process, undici, keep-alive, concurrency 64) sends
//   the same number of requests either all to replica 1 ("one replica") or alternately to both ("two replicas", the
//   client-side round robin a load balancer would do). Cells alternate (one, two, two, one, ...); the median of the
//   rounds is printed. Only the ratio means something: every process shares the same cores, so on a 2-core machine
//   two replicas cannot get twice the CPU of one.
import { cpus, loadavg } from 'node:os';
import { Pool } from 'undici';
import { median, runConcurrent } from './harness.js';
import { APP } from './fixtures.js';
import { startChild, startFakePusherServer, stopAllChildren } from './processes.js';

const argument = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const ROUNDS = argument('--rounds', 5);
const CALLS = argument('--calls', 6000);
const CONCURRENCY = 64;

const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const loadAtStart = load();

const fake = await startFakePusherServer();
// Check every request's signature while warming up, then stop checking so the fake API is not the bottleneck.
await fake.configure({ verify: true, ...APP });
const replicas = await Promise.all(
  [1, 2].map(() => startChild('./replica-app.js', { env: { FAKE_PUSHER_PORT: String(fake.port) } })),
);
const pools = replicas.map(
  (replica) => new Pool(`http://127.0.0.1:${replica.ready.port}`, { connections: CONCURRENCY }),
);

async function order(pool) {
  const { statusCode, body } = await pool.request({ method: 'POST', path: '/orders' });
  await body.dump();
  if (statusCode !== 200) throw new Error(`replica answered ${statusCode}`);
}

async function cell(replicaCount) {
  let turn = 0;
  const before = (await fake.stats()).eventRequests;
  const result = await runConcurrent(() => order(pools[turn++ % replicaCount]), CALLS, CONCURRENCY);
  const delivered = (await fake.stats()).eventRequests - before;
  if (result.errors > 0) throw new Error(`${result.errors} requests failed: ${result.firstError?.message}`);
  if (delivered !== CALLS)
    throw new Error(`${CALLS} requests answered but the API received ${delivered} /events requests`);
  return result.opsPerSec;
}

try {
  // Warm-up with signature checks on: both replicas send valid, signed requests.
  await cell(2);
  const stats = await fake.stats();
  if (stats.rejected > 0) throw new Error(`the fake API rejected ${stats.rejected} requests: ${stats.lastError}`);
  await fake.configure({ verify: false, ...APP });
  await cell(1);

  const rates = { 1: [], 2: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const count of round % 2 === 0 ? [1, 2] : [2, 1]) rates[count].push(await cell(count));
  }
  const one = median(rates[1]);
  const two = median(rates[2]);
  const rounds = (values) => values.map((value) => Math.round(value)).join(', ');
  console.log(`cores: ${cpus().length}, load average at start ${loadAtStart.join(' ')}, at end ${load().join(' ')}`);
  console.log(`${CALLS} requests per cell at concurrency ${CONCURRENCY}, ${ROUNDS} rounds`);
  console.log(`one replica:  ${Math.round(one)} events/s (rounds: ${rounds(rates[1])})`);
  console.log(`two replicas: ${Math.round(two)} events/s (rounds: ${rounds(rates[2])})`);
  console.log(`two replicas / one: ${(two / one).toFixed(2)}x`);
} finally {
  await Promise.all(pools.map((pool) => pool.close()));
  await Promise.all(replicas.map((replica) => replica.stop()));
  await fake.stop();
  stopAllChildren();
}
