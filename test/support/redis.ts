/**
 * A throw-away Redis server for tests: Debian's `redis-server` on a free loopback port, nothing persisted, stopped by
 * its pid. Every test file that needs Redis starts its own and stops it in `afterAll`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { freeTcpPort } from '../../sample/embedded-soketi.js';

export interface TestRedis {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM to that exact process (SIGKILL after a grace period); resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

const REDIS_SERVER = 'redis-server';
const READY_LINE = 'Ready to accept connections';
const START_TIMEOUT_MS = 15_000;
const KILL_GRACE_MS = 5_000;

/** Starts redis-server on 127.0.0.1 and a free port; resolves once it accepts connections. */
export async function startRedis(): Promise<TestRedis> {
  if (spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).error !== undefined) {
    throw new Error(`${REDIS_SERVER} not found: install Debian's package redis-server (apt-get install -y redis-server).`);
  }
  // A port found free can be taken before redis binds it: then redis exits at once, and a new port is tried.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freeTcpPort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(port: number): Promise<TestRedis> {
  const host = '127.0.0.1';
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', killOnExit);
    })();
    return stopping;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`redis-server was not ready within ${START_TIMEOUT_MS} ms:\n${output.slice(-2000)}`)), START_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (output.includes(READY_LINE)) finish();
      };
      const onExit = (code: number | null): void => finish(new Error(`redis-server exited (code ${String(code)}) before it was ready:\n${output.slice(-2000)}`));
      function finish(error?: Error): void {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        if (error) reject(error);
        else resolve();
      }
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  // Keep the pipes drained without keeping what they say.
  child.stdout?.removeAllListeners('data').resume();
  child.stderr?.removeAllListeners('data').resume();
  return { host, port, pid: child.pid!, stop };
}
