// Where does a webhook request's CPU go in the Nest app? Loads the app of one route (bench/webhook-app.js, in its own process,
// as in run.js) with new signed deliveries under the V8 CPU profiler, and prints self time per function; two routes
// are compared per request with --diff.
//
//   npm run build && node bench/profile-webhook.js [builtIn|official|floor] [deliveries]   (defaults: builtIn 40000)
//   node bench/profile.js --diff /tmp/nest-pusher-profiles/webhook-builtIn.cpuprofile 40000 \
//        /tmp/nest-pusher-profiles/webhook-official.cpuprofile 40000
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { signedWebhook } from './fixtures.js';
import { runConcurrent } from './harness.js';
import { startChild, stopAllChildren } from './processes.js';
import { summarize } from './profile.js';

const PATHS = { builtIn: '/pusher/webhooks', official: '/official/webhooks', floor: '/floor/webhooks' };
const [route = 'builtIn', count = '40000'] = process.argv.slice(2);
if (!PATHS[route]) throw new Error(`unknown route ${route}: one of ${Object.keys(PATHS).join(', ')}`);
const calls = Number(count);

const app = await startChild('./webhook-app.js', { env: { BENCH_WEBHOOK_ROUTE: route } });
const pool = new Pool(`http://127.0.0.1:${app.ready.port}`, { connections: 32, pipelining: 1 });
let sequence = 0;
const load = async (n) => {
  // New deliveries, signed before the load starts (a repeated body would be a redelivery).
  const hooks = Array.from({ length: n }, () =>
    signedWebhook([{ name: 'channel_occupied', channel: `presence-bench-room-${++sequence}` }]),
  );
  let next = 0;
  return runConcurrent(
    async () => {
      const { body, key, signature } = hooks[next++];
      const res = await pool.request({
        method: 'POST',
        path: PATHS[route],
        headers: { 'content-type': 'application/json', 'x-pusher-key': key, 'x-pusher-signature': signature },
        body,
      });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    },
    n,
    32,
  );
};
try {
  await load(Math.max(1000, calls / 2)); // warm-up, unprofiled
  await app.request({ type: 'profile-start' }, 'profile-started');
  const stats0 = await app.request({ type: 'stats' }, 'stats');
  const result = await load(calls);
  const stats1 = await app.request({ type: 'stats' }, 'stats');
  const { profile } = await app.request({ type: 'profile-stop' }, 'profile');
  const dir = join(tmpdir(), 'nest-pusher-profiles');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `webhook-${route}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(
    `${route}: ${Math.round(result.opsPerSec)} req/s, app CPU ${((stats1.cpuMicros - stats0.cpuMicros) / calls).toFixed(1)} µs/request ` +
      `(JS thread ${((stats1.mainCpuMicros - stats0.mainCpuMicros) / calls).toFixed(1)}), errors ${result.errors}; profile: ${file}\n`,
  );
  console.log(summarize(profile, 40));
} finally {
  await pool.close();
  await app.stop();
  stopAllChildren();
}
