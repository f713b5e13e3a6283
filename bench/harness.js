// Measuring loops: a fixed number of calls, wall time from hrtime, client CPU from process.cpuUsage.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full garbage collection, so that one cell's garbage is not collected on the next cell's clock. */
export const gc = (() => {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc');
    if (typeof fn === 'function') return fn;
  } catch {
    // not available: measurements still work, just noisier
  }
  return () => {};
})();

function cpuMicros(start) {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

/**
 * Calls `fn()` `total` times with at most `concurrency` calls in flight. Resolves with
 * `{ calls, seconds, opsPerSec, cpuMicrosPerCall, errors, firstError }`. Every call is awaited; a rejection is
 * counted (a cell with errors is reported as failed, never as fast).
 */
export async function runConcurrent(fn, total, concurrency) {
  gc();
  let issued = 0;
  let errors = 0;
  let firstError;
  async function worker() {
    while (issued < total) {
      issued++;
      try {
        await fn();
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  }
  const workers = new Array(Math.min(concurrency, total));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < workers.length; i++) workers[i] = worker();
  await Promise.all(workers);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuMicros(cpu0);
  return {
    calls: total,
    seconds,
    opsPerSec: total / seconds,
    cpuMicrosPerCall: cpu / total,
    errors,
    firstError,
  };
}

/** Calls the synchronous `fn()` `total` times in a tight loop. `sink` keeps results alive so nothing is elided. */
export function runSync(fn, total) {
  gc();
  let sink = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const r = fn();
    if (r) sink++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuMicros(cpu0);
  if (sink !== total) throw new Error(`a call returned a falsy result (${total - sink} of ${total})`);
  return { calls: total, seconds, opsPerSec: total / seconds, cpuMicrosPerCall: cpu / total, errors: 0 };
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Slope of y over x by least squares. */
export function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
