// Child processes of the benchmark: started with fork, talked to over IPC, always stopped by their own pid.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** Every child this process started and has not stopped yet; stopped by exact pid on exit. */
const children = new Set();

export function stopAllChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    children.delete(child);
  }
}
process.on('exit', stopAllChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAllChildren();
    process.exit(130);
  });
}

/**
 * Forks `file` (relative to bench/) and wraps its IPC: `request(msg, replyType)` sends a message and resolves with
 * the next reply of that type. Resolves once the child sent `{ type: readyType }`.
 */
export function startChild(file, { execArgv = [], env = {}, readyType = 'listening', args = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(here(file), args, {
      execArgv,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    const waiting = [];
    let ready = false;
    child.on('message', (msg) => {
      if (!ready && msg?.type === readyType) {
        ready = true;
        resolve(handle(msg));
        return;
      }
      const i = waiting.findIndex((w) => w.type === msg?.type);
      if (i >= 0) waiting.splice(i, 1)[0].resolve(msg);
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      const err = new Error(`${file} exited (code ${code}, signal ${signal})`);
      if (!ready) reject(err);
      for (const w of waiting.splice(0)) w.reject(err);
    });
    child.on('error', reject);
    function handle(readyMsg) {
      return {
        pid: child.pid,
        ready: readyMsg,
        request(msg, replyType) {
          return new Promise((res, rej) => {
            waiting.push({ type: replyType, resolve: res, reject: rej });
            child.send(msg);
          });
        },
        /** Resolves when the child has exited (asks it to close first, then SIGTERM by pid after 2 s). */
        stop() {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
          return new Promise((res) => {
            const timer = setTimeout(() => {
              try {
                process.kill(child.pid, 'SIGTERM');
              } catch {
                // gone
              }
            }, 2000);
            child.once('exit', () => {
              clearTimeout(timer);
              children.delete(child);
              res();
            });
            try {
              child.send({ type: 'close' });
            } catch {
              process.kill(child.pid, 'SIGTERM');
            }
          });
        },
      };
    }
  });
}

/** The fake Pusher API server in its own process. */
export async function startFakePusherServer() {
  const child = await startChild('./fake-pusher-server.js');
  return {
    pid: child.pid,
    port: child.ready.port,
    configure: (cfg) => child.request({ type: 'config', ...cfg }, 'ok'),
    stats: async () => (await child.request({ type: 'stats' }, 'stats')).stats,
    reset: () => child.request({ type: 'reset' }, 'ok'),
    stop: () => child.stop(),
  };
}
