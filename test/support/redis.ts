/**
 * A real Redis for tests: Debian's `redis-server` on a free loopback port, without persistence, stopped by its pid.
 * Missing binary → one line naming the package and the install command (the tests never skip).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freeTcpPort } from '../../sample/embedded-soketi.js';
import { withTimeout } from './wait.js';

export interface TestRedis {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM to that exact process, SIGKILL if it has not exited after a while; resolves once it has exited. */
  stop(): Promise<void>;
}

const MISSING = "redis-server not found: install Debian's redis-server package (apt-get install -y redis-server)";

export async function startRedis(): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error !== undefined) throw new Error(MISSING);
  const host = '127.0.0.1';
  // A port taken between the check and the bind makes redis exit: try a few free ports.
  let lastOutput = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeTcpPort(host);
    const child = trackClose(
      spawn('redis-server', ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const ready = await withTimeout(
      readyOrExit(child),
      15_000,
      `redis-server on port ${port} to accept connections`,
    ).catch(async (error: unknown) => {
      await stopChild(child);
      throw error;
    });
    if (ready.ok) return { host, port, pid: child.pid!, stop: () => stopChild(child) };
    lastOutput = ready.output;
  }
  throw new Error(`redis-server did not start: ${lastOutput.slice(-300)}`);
}

function readyOrExit(child: ChildProcess): Promise<{ ok: true } | { ok: false; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        // Keep draining so that a full pipe never blocks the server.
        child.stdout?.resume();
        resolve({ ok: true });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', () => resolve({ ok: false, output }));
  });
}

/** 'close' (after 'exit', once the output pipes are released too), recorded from the start so it is never missed. */
const closedChildren = new WeakMap<ChildProcess, Promise<void>>();

function trackClose(child: ChildProcess): ChildProcess {
  closedChildren.set(child, new Promise<void>((resolve) => child.once('close', () => resolve())));
  return child;
}

/** SIGTERM (SIGKILL after 5 s) and resolves once the process has exited and its pipes are closed: nothing stays open. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  }
  await closedChildren.get(child);
}
