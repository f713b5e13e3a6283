/**
 * Starts a private soketi server (an open-source Pusher Channels server) as a child process, for the sample app and
 * for the end-to-end tests. Plain Node APIs only: no dependency beyond the `@soketi/soketi` package itself.
 *
 * ```ts
 * const soketi = await startSoketi({ appId: 'app-id', key: 'app-key', secret: 'app-secret',
 *                                    webhookUrl: 'http://127.0.0.1:3000/pusher/webhooks' });
 * // ... new Pusher({ appId, key, secret, host: soketi.host, port: soketi.port, useTLS: false })
 * await soketi.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The webhook events soketi can send (it has no `subscription_count` webhook). */
export const SOKETI_WEBHOOK_EVENTS = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_event',
] as const;

export interface StartSoketiOptions {
  appId: string;
  key: string;
  secret: string;
  /** Where soketi POSTs signed webhooks; no webhooks when absent. */
  webhookUrl?: string;
  /** Webhook events to send to `webhookUrl`; default: every event soketi supports. */
  webhookEvents?: readonly string[];
  /** Port for the HTTP API and WebSockets; 0 or absent picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Let clients send `client-` events (needed for `client_event` webhooks); default true. */
  enableClientMessages?: boolean;
  /**
   * Accept `pusher:signin` (user authentication); default true. soketi only honours sign-in when this is on, and then
   * closes connections that have not signed in within `userAuthenticationTimeoutMs` (soketi's default: 30 s).
   */
  enableUserAuthentication?: boolean;
  userAuthenticationTimeoutMs?: number;
  /** Batch webhooks: soketi collects the events of this many ms into one webhook; off when absent. */
  webhookBatchingMs?: number;
  /** Largest event payload soketi accepts, in KB; soketi's default is 100. */
  maxPayloadInKb?: number;
  /** How long soketi waits for sockets to close on SIGTERM; default 200 ms (soketi's own default is 3000). */
  shutdownGracePeriodMs?: number;
  /** How long to wait for "Server is up and running"; default 20 s. */
  startTimeoutMs?: number;
  /**
   * Run as one node of a cluster: soketi's Redis adapter, so that events, channel counts and presence members are
   * shared with every node using the same Redis (and `prefix`). Default: a single node (soketi's local adapter).
   */
  redis?: { host: string; port: number; prefix?: string };
  /** Print soketi's output to this process's stderr as it arrives (debugging); default false. */
  echoOutput?: boolean;
}

export interface EmbeddedSoketi {
  /** The interface soketi listens on (use it as the core client's `host` and pusher-js's `wsHost`). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, the base of the HTTP API. */
  readonly httpUrl: string;
  readonly pid: number;
  /** The last lines soketi printed (ANSI colours removed), for error messages. */
  recentOutput(): string[];
  /** Sends SIGTERM to that exact process, SIGKILL after a grace period, and resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

const READY_LINE = 'Server is up and running';
const OUTPUT_LINES_KEPT = 40;
const KILL_GRACE_MS = 5000;

/** Starts soketi and resolves once it accepts HTTP requests. Rejects with the process's last output lines if it dies or times out. */
export async function startSoketi(options: StartSoketiOptions): Promise<EmbeddedSoketi> {
  const host = options.host ?? '127.0.0.1';
  const fixedPort = options.port !== undefined && options.port !== 0;
  // A free port found by listen(0) can be taken by someone else before soketi binds it, and soketi still prints its
  // ready line when its listen fails; so every start is checked with an HTTP request and retried with new ports.
  const attempts = fixedPort ? 1 : 3;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await startOnce(options, host, fixedPort ? (options.port as number) : await freeTcpPort(host));
    } catch (error) {
      lastError = error;
      if (!(error instanceof SoketiNotListeningError)) throw error;
    }
  }
  throw lastError;
}

class SoketiNotListeningError extends Error {}

async function startOnce(options: StartSoketiOptions, host: string, port: number): Promise<EmbeddedSoketi> {
  const metricsPort = await freeTcpPort(host);
  const discoveryPort = await freeUdpPort(host);
  const configDir = await mkdtemp(join(tmpdir(), 'embedded-soketi-'));
  const configPath = join(configDir, 'soketi.json');
  await writeFile(configPath, JSON.stringify(soketiConfig(options, host, port, metricsPort, discoveryPort)), {
    mode: 0o600, // it holds the app secret
  });

  const child = spawn(process.execPath, [soketiBin(), 'start', `--config=${configPath}`], {
    // soketi reads `.env` from its working directory and lets SOKETI_* variables override the config file.
    cwd: configDir,
    env: withoutSoketiVariables(process.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new OutputBuffer(options.echoOutput === true);
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // 'close' comes after 'exit' once the output pipes are released too: stop() waits for it so nothing stays open.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // Without this, a parent that exits without calling stop() (Ctrl-C on the sample) would leave soketi running.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), (options.shutdownGracePeriodMs ?? 200) + KILL_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      await closed;
      process.removeListener('exit', killOnExit);
      await rm(configDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    if (child.pid === undefined) {
      // spawn failed synchronously (e.g. ENOENT): the error event carries the reason.
      const reason = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`Could not start soketi (${process.execPath} ${soketiBin()}): ${reason.message}`);
    }
    await waitForReady(child, output, options.startTimeoutMs ?? 20_000);
    if (!(await answersHttp(host, port))) {
      throw new SoketiNotListeningError(
        `soketi printed "${READY_LINE}" but nothing answers on http://${host}:${port} (port taken?).` +
          formatOutput(output.lines()),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    host,
    port,
    httpUrl: `http://${host}:${port}`,
    pid: child.pid,
    recentOutput: () => output.lines(),
    stop,
  };
}

function soketiConfig(
  options: StartSoketiOptions,
  host: string,
  port: number,
  metricsPort: number,
  discoveryPort: number,
): Record<string, unknown> {
  const app: Record<string, unknown> = {
    id: options.appId,
    key: options.key,
    secret: options.secret,
    enabled: true,
    enableClientMessages: options.enableClientMessages ?? true,
    enableUserAuthentication: options.enableUserAuthentication ?? true,
    webhooks:
      options.webhookUrl === undefined
        ? []
        : [{ url: options.webhookUrl, event_types: [...(options.webhookEvents ?? SOKETI_WEBHOOK_EVENTS)] }],
  };
  const config: Record<string, unknown> = {
    host,
    port,
    'metrics.host': host,
    'metrics.port': metricsPort,
    // soketi's node discovery binds UDP 0.0.0.0:11002 and broadcasts by default; keep it on this host, on its own port.
    'cluster.address': host,
    'cluster.port': discoveryPort,
    'cluster.unicast': host,
    shutdownGracePeriod: options.shutdownGracePeriodMs ?? 200,
    'appManager.array.apps': [app],
  };
  if (options.userAuthenticationTimeoutMs !== undefined) {
    config['userAuthenticationTimeout'] = options.userAuthenticationTimeoutMs;
  }
  if (options.webhookBatchingMs !== undefined) {
    config['webhooks.batching.enabled'] = true;
    config['webhooks.batching.duration'] = options.webhookBatchingMs;
  }
  if (options.maxPayloadInKb !== undefined) {
    config['eventLimits.maxPayloadInKb'] = options.maxPayloadInKb;
  }
  if (options.redis !== undefined) {
    config['adapter.driver'] = 'redis';
    config['adapter.redis.prefix'] = options.redis.prefix ?? '';
    config['database.redis.host'] = options.redis.host;
    config['database.redis.port'] = options.redis.port;
  }
  return config;
}

function soketiBin(): string {
  const packageJson = createRequire(import.meta.url).resolve('@soketi/soketi/package.json');
  return join(dirname(packageJson), 'bin', 'server.js');
}

function withoutSoketiVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('SOKETI_')));
}

function waitForReady(child: ChildProcess, output: OutputBuffer, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      output.onLine = undefined;
      child.removeListener('exit', onExit);
      child.removeListener('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      finish(
        new Error(
          `soketi exited before it was ready (${signal ?? `exit code ${String(code)}`}).` +
            formatOutput(output.lines()),
        ),
      );
    const onError = (error: Error): void =>
      finish(new Error(`soketi failed: ${error.message}` + formatOutput(output.lines())));
    const timer = setTimeout(
      () => finish(new Error(`soketi was not ready within ${timeoutMs} ms.` + formatOutput(output.lines()))),
      timeoutMs,
    );
    child.once('exit', onExit);
    child.once('error', onError);
    output.onLine = (line) => {
      if (line.includes(READY_LINE)) finish();
    };
    if (output.lines().some((line) => line.includes(READY_LINE))) finish();
  });
}

/** soketi answers `GET /` with `OK` on its API port (anything else there is another server on that port). */
/**
 * Whether soketi answers its health check on `port`: polled until `withinMs`, because a loaded machine can take a
 * while between soketi's ready line and its first answer. Another server's answer on that port is a "no" at once.
 */
async function answersHttp(host: string, port: number, withinMs = 15_000): Promise<boolean> {
  const giveUpAt = Date.now() + withinMs;
  for (;;) {
    const answer = await healthCheck(host, port);
    if (answer !== 'unreachable') return answer === 'soketi';
    if (Date.now() >= giveUpAt) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function healthCheck(host: string, port: number): Promise<'soketi' | 'other' | 'unreachable'> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', method: 'GET', timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.slice(0, 16)));
      res.once('end', () => resolve(res.statusCode === 200 && body === 'OK' ? 'soketi' : 'other'));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve('unreachable'));
    req.end();
  });
}

function formatOutput(lines: string[]): string {
  return lines.length === 0 ? ' soketi printed nothing.' : `\nLast soketi output:\n  ${lines.join('\n  ')}`;
}

/** Keeps the last lines of the child's output (ANSI colours removed); reading it also keeps the pipes drained. */
class OutputBuffer {
  onLine: ((line: string) => void) | undefined;
  private readonly kept: string[] = [];
  private partial = '';

  constructor(private readonly echo: boolean) {}

  push(chunk: Buffer): void {
    if (this.echo) process.stderr.write(chunk);
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      // eslint-disable-next-line no-control-regex
      const line = raw.replace(/\u001b\[[0-9;]*m/g, '').trim();
      if (line === '') continue;
      this.kept.push(line);
      if (this.kept.length > OUTPUT_LINES_KEPT) this.kept.shift();
      this.onLine?.(line);
    }
  }

  lines(): string[] {
    return this.partial.trim() === '' ? [...this.kept] : [...this.kept, this.partial.trim()];
  }
}

/** A TCP port that was free a moment ago (listen on 0, read the port, close). */
/**
 * A port that was free a moment ago, for a server started next. Picked at random below the kernel's ephemeral range
 * (where `listen(0)` and outgoing connections take their ports), so that no other socket of this machine is handed
 * the same port between this check and the bind; `listen(0)` only if that range yields nothing.
 */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probeTcpPort(host, randomReservablePort());
    if (port > 0) return port;
  }
  const port = await probeTcpPort(host, 0);
  if (port === 0) throw new Error('Could not find a free TCP port');
  return port;
}

async function freeUdpPort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probeUdpPort(host, randomReservablePort());
    if (port > 0) return port;
  }
  throw new Error('Could not find a free UDP port');
}

/** Binds `port` (0: any) and lets it go again; resolves with the port bound, or 0 if it could not be bound. */
function probeTcpPort(host: string, port: number): Promise<number> {
  return new Promise<number>((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(0));
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function probeUdpPort(host: string, port: number): Promise<number> {
  return new Promise<number>((resolve) => {
    const socket = createSocket('udp4');
    socket.unref();
    socket.once('error', () => resolve(0));
    socket.bind(port, host, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}

/** The first port of the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range), 32768 elsewhere. */
const EPHEMERAL_PORTS_START = (() => {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 12000 ? first : 32768;
  } catch {
    return 32768;
  }
})();

function randomReservablePort(): number {
  return 10000 + Math.floor(Math.random() * (EPHEMERAL_PORTS_START - 10000));
}
