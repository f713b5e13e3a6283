/**
 * A local HTTP server that can be told how to (mis)behave, for fault-injection tests of the HTTP client and the
 * transports, plus a tiny forward proxy. Everything listens on 127.0.0.1, port 0.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';

/** How the server answers one request. */
export type Behaviour =
  /** Answer `status` with `body` (default 200 `{}`) and extra headers. */
  | { kind: 'respond'; status?: number; body?: string; headers?: Record<string, string | string[]>; delayMs?: number }
  /** Send headers and part of the body, then reset the connection (TCP RST). */
  | { kind: 'reset-mid-response' }
  /** Reset the connection as soon as the request arrived, before any answer. */
  | { kind: 'reset-before-response' }
  /** Read the request and never answer. */
  | { kind: 'no-headers' }
  /** Send headers announcing a body, part of it, then nothing more. */
  | { kind: 'stall-body' }
  /** A 2xx answer whose body is not JSON. */
  | { kind: 'invalid-json' }
  /** A 200 answer of `bytes` bytes, with or without a content-length header. */
  | { kind: 'oversized'; bytes?: number; chunked?: boolean }
  /** A 200 gzip answer (`content-encoding: gzip`, honest `content-length`) of 64 KiB that expands to 64 MiB of zeros. */
  | { kind: 'gzip-bomb' };

/** What the server saw of one request. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request was complete. */
  at: number;
}

export interface MisbehavingServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly port: number;
  /** Requests received (complete bodies), in order. */
  readonly requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Behaviours used for the next requests, first in first out; afterwards `fallback` answers. */
  queue(...behaviours: Behaviour[]): void;
  /** Answers every request not served by the queue; default `{ kind: 'respond' }` (200 `{}`). */
  setFallback(choose: Behaviour | ((request: RecordedRequest) => Behaviour)): void;
  /** Forget recorded requests (the connection count stays). */
  clearRequests(): void;
  /** Destroys every open socket and stops listening. */
  close(): Promise<void>;
}

export async function startMisbehavingServer(options: { record?: boolean } = {}): Promise<MisbehavingServer> {
  const record = options.record ?? true;
  const sockets = new Set<net.Socket>();
  const queued: Behaviour[] = [];
  const requests: RecordedRequest[] = [];
  let fallback: Behaviour | ((request: RecordedRequest) => Behaviour) = { kind: 'respond' };
  let connections = 0;

  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      if (record) requests.push(recorded);
      const behaviour = queued.shift() ?? (typeof fallback === 'function' ? fallback(recorded) : fallback);
      behave(behaviour, req, res);
    });
  });
  server.on('connection', (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return connections;
    },
    queue: (...behaviours) => queued.push(...behaviours),
    setFallback: (choose) => {
      fallback = choose;
    },
    clearRequests: () => {
      requests.length = 0;
    },
    close: () => closeServer(server, sockets),
  };
}

function behave(behaviour: Behaviour, req: http.IncomingMessage, res: http.ServerResponse): void {
  const socket = req.socket;
  switch (behaviour.kind) {
    case 'respond': {
      const send = (): void => {
        const body = behaviour.body ?? '{}';
        res.writeHead(behaviour.status ?? 200, {
          'content-type': body.startsWith('{') ? 'application/json' : 'text/plain',
          'content-length': Buffer.byteLength(body),
          ...behaviour.headers,
        });
        res.end(body);
      };
      if (behaviour.delayMs !== undefined) setTimeout(send, behaviour.delayMs);
      else send();
      return;
    }
    case 'reset-mid-response':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"channels":{', () => setTimeout(() => socket.resetAndDestroy(), 20));
      return;
    case 'reset-before-response':
      socket.resetAndDestroy();
      return;
    case 'no-headers':
      return;
    case 'stall-body':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"channels":{');
      return;
    case 'invalid-json': {
      const body = '<html><body>Bad gateway, maybe</body></html>';
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    case 'gzip-bomb': {
      const body = gzipBomb();
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': body.length,
      });
      res.on('error', () => undefined);
      res.end(body);
      return;
    }
    case 'oversized': {
      const bytes = behaviour.bytes ?? 2 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
      if (behaviour.chunked !== true) headers['content-length'] = bytes;
      res.writeHead(200, headers);
      let left = bytes;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('error', () => undefined);
      pump();
      return;
    }
  }
}

/** Compressed once per process: 64 MiB of zeros, 64 times the transports' 1 MiB cap, in about 64 KiB. */
let bomb: Buffer | undefined;
export const GZIP_BOMB_DECODED_BYTES = 64 * 1024 * 1024;
function gzipBomb(): Buffer {
  bomb ??= zlib.gzipSync(Buffer.alloc(GZIP_BOMB_DECODED_BYTES), { level: 9 });
  return bomb;
}

async function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * A port on 127.0.0.1 where nothing listens (connection refused). Port 2 is outside the ephemeral range, so no test
 * server running in parallel can be handed it (and, unlike 1, fetch does not block it); only where something listens
 * there, fall back to a port that was just freed.
 */
export async function closedPort(): Promise<number> {
  if (await refuses(2)) return 2;
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

export interface ForwardProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** CONNECT tunnels opened (targets as `host:port`). */
  readonly tunnels: string[];
  /** Absolute-form requests forwarded (their URLs). */
  readonly forwarded: string[];
  /** Answer CONNECT with this status instead of tunnelling (e.g. 403), or null to tunnel. */
  refuseWith: number | null;
  close(): Promise<void>;
}

/** A minimal HTTP forward proxy: tunnels CONNECT, forwards absolute-form requests, records what it did. */
export async function startForwardProxy(): Promise<ForwardProxy> {
  const sockets = new Set<net.Socket>();
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const state = { refuseWith: null as number | null };

  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/');
    forwarded.push(req.url ?? '');
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: target.pathname + target.search,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (state.refuseWith !== null) {
      client.end(`HTTP/1.1 ${state.refuseWith} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    tunnels.push(req.url ?? '');
    client.setNoDelay(true);
    const upstream = net.connect(Number(port), host, () => {
      upstream.setNoDelay(true);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    get refuseWith() {
      return state.refuseWith;
    },
    set refuseWith(value: number | null) {
      state.refuseWith = value;
    },
    close: () => closeServer(server, sockets),
  };
}

/**
 * Records every unhandled rejection while installed; `stop()` removes the listeners. Jest hands tests a copy of
 * `process` whose events never fire, so the listener goes on the worker's real process too (reached through
 * `vm.runInThisContext`, which evaluates in the worker's own context).
 */
export function watchUnhandledRejections(): { readonly seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  const real = vm.runInThisContext('process') as NodeJS.Process;
  const targets = real === process ? [process] : [process, real];
  for (const target of targets) target.on('unhandledRejection', listener);
  return { seen, stop: () => targets.forEach((target) => target.off('unhandledRejection', listener)) };
}

/** Collects log lines of every level. */
export function capturingLogger(): {
  lines: string[];
  debug(message: string, ...optional: unknown[]): void;
  log(message: string, ...optional: unknown[]): void;
  warn(message: string, ...optional: unknown[]): void;
  error(message: string, ...optional: unknown[]): void;
} {
  const lines: string[] = [];
  const push =
    (level: string) =>
    (message: string, ...optional: unknown[]): void => {
      lines.push(`${level} ${message}${optional.length > 0 ? ' ' + JSON.stringify(optional) : ''}`);
    };
  return { lines, debug: push('debug'), log: push('log'), warn: push('warn'), error: push('error') };
}

/** A plain 200 `{}` server in a worker thread, so a load test's client and server use both cores. */
export interface WorkerServer {
  readonly origin: string;
  /** TCP connections the server accepted so far. */
  connections(): Promise<number>;
  /** Delay every answer by `ms` from now on. */
  setDelay(ms: number): Promise<void>;
  close(): Promise<void>;
}

const WORKER_SERVER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
let connections = 0;
let delayMs = 0;
const sockets = new Set();
const answer = (res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
  res.end('{}');
};
const server = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => (delayMs > 0 ? setTimeout(answer, delayMs, res) : answer(res)));
});
server.on('connection', (socket) => {
  connections++;
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message.type === 'connections') parentPort.postMessage({ connections });
  if (message.type === 'delay') {
    delayMs = message.ms;
    parentPort.postMessage({ delayed: true });
  }
  if (message.type === 'close') {
    for (const socket of sockets) socket.destroy();
    server.close(() => parentPort.postMessage({ closed: true }));
  }
});
`;

export async function startWorkerServer(): Promise<WorkerServer> {
  const worker = new Worker(WORKER_SERVER_SOURCE, { eval: true });
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      worker.once('error', onError);
      worker.once('message', (message: T) => {
        worker.off('error', onError);
        resolve(message);
      });
    });
  const { port } = await next<{ port: number }>();
  return {
    origin: `http://127.0.0.1:${port}`,
    connections: async () => {
      const reply = next<{ connections: number }>();
      worker.postMessage({ type: 'connections' });
      return (await reply).connections;
    },
    setDelay: async (ms) => {
      const reply = next<unknown>();
      worker.postMessage({ type: 'delay', ms });
      await reply;
    },
    close: async () => {
      const reply = next<unknown>();
      worker.postMessage({ type: 'close' });
      await reply;
      await worker.terminate();
    },
  };
}
