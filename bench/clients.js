// The four ways to trigger that the benchmark compares, each built against the fake server at `port`:
// nest-pusher core, nest-pusher's PusherService (inside a Nest application context), the official `pusher` client,
// and raw undici (the floor: a keep-alive pool POSTing a pre-built body to a pre-signed URL, no signing at all).
// A client whose package cannot be loaded (e.g. lib/ not built yet) is returned as `{ unavailable: reason }`.
import { Pool } from 'undici';
import OfficialPusher from 'pusher';
import { APP, CHANNEL, EVENT, signedPath, triggerBody } from './fixtures.js';

/**
 * nest-pusher runs with its defaults (64 pooled connections; the build before this change: 128). Raw undici gets the
 * same cap as nest-pusher's default, so that the floor is the same transport configured the same way.
 * BENCH_MAX_CONNECTIONS sets the cap of both, for experiments.
 */
const FORCED_MAX_CONNECTIONS =
  process.env.BENCH_MAX_CONNECTIONS === undefined ? undefined : Number(process.env.BENCH_MAX_CONNECTIONS);
export const MAX_CONNECTIONS = FORCED_MAX_CONNECTIONS ?? 64;

export function clientOptions(port, extra = {}) {
  const options = { ...APP, host: '127.0.0.1', port, useTLS: false, timeout: 10_000, ...extra };
  if (FORCED_MAX_CONNECTIONS !== undefined) options.maxConnections = FORCED_MAX_CONNECTIONS;
  return options;
}

async function tryLoad(name, fn) {
  try {
    return await fn();
  } catch (err) {
    return { name, unavailable: `${err?.code ?? ''} ${err?.message ?? err}`.trim().split('\n')[0] };
  }
}

/** `from`: the module to load the client from; another build (e.g. the code before a change) for same-run comparisons. */
export async function ourCore(port, extra = {}, name = 'nest-pusher core', from = 'nest-pusher/core') {
  return tryLoad(name, async () => {
    const { Pusher } = await import(from);
    const pusher = new Pusher(clientOptions(port, extra));
    return {
      name,
      pusher,
      trigger: (data) => pusher.trigger(CHANNEL, EVENT, data),
      close: () => pusher.close(),
    };
  });
}

export async function ourService(port, name = 'nest-pusher PusherService') {
  return tryLoad(name, async () => {
    await import('reflect-metadata');
    const { NestFactory } = await import('@nestjs/core');
    const { PusherModule, PusherService } = await import('nest-pusher');
    const app = await NestFactory.createApplicationContext(
      PusherModule.forRoot({ ...clientOptions(port), authController: false, webhookController: false }),
      {
        logger: ['error'],
      },
    );
    const service = app.get(PusherService);
    return {
      name,
      pusher: service,
      trigger: (data) => service.trigger(CHANNEL, EVENT, data),
      close: () => app.close(),
    };
  });
}

export async function official(port, name = 'official pusher 5.3.4') {
  // Its defaults: node-fetch over Node's global http agent (keep-alive since Node 19, no socket cap).
  const pusher = new OfficialPusher({
    appId: APP.appId,
    key: APP.key,
    secret: APP.secret,
    host: '127.0.0.1',
    port,
    useTLS: false,
  });
  return {
    name,
    pusher,
    trigger: (data) => pusher.trigger(CHANNEL, EVENT, data),
    close: async () => {},
  };
}

/**
 * The floor for any client that signs: raw undici as above, but every call does the protocol's mandatory work the
 * plain way (JSON-encode the data, then the body; MD5 of the body and HMAC-SHA256 of the query with node:crypto),
 * with no validation, no timeout, no retry and no error mapping. Our distance to it is the library's own overhead.
 */
export async function signedFloor(port, name = 'signed floor: undici + node:crypto signing') {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: MAX_CONNECTIONS, pipelining: 1 });
  const headers = { 'content-type': 'application/json', 'x-pusher-library': 'bench-signed-floor' };
  return {
    name,
    pool,
    trigger: async (data) => {
      const body = triggerBody(data);
      const res = await pool.request({ method: 'POST', path: signedPath('/events', body), headers, body });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text}`);
      return text;
    },
    close: () => pool.close(),
  };
}

export async function rawUndici(port, name = 'raw undici (no signing)') {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: MAX_CONNECTIONS, pipelining: 1 });
  const headers = { 'content-type': 'application/json', 'x-pusher-library': 'bench-raw' };
  // One pre-built request per payload object: body and signed URL computed once, outside the timed loop.
  const prepared = new WeakMap();
  function prepare(data) {
    let p = prepared.get(data);
    if (!p) {
      const body = triggerBody(data);
      p = { method: 'POST', path: signedPath('/events', body), headers, body };
      prepared.set(data, p);
    }
    return p;
  }
  return {
    name,
    pool,
    prepare,
    trigger: async (data) => {
      const res = await pool.request(prepare(data));
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text}`);
      return text;
    },
    close: () => pool.close(),
  };
}
