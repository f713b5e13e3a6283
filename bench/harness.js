// Measuring loops: a fixed number of calls, wall time from hrtime, CPU of the whole process, GC pauses.
//
// No forced GC between cells: a full gc() before a cell measured the official client at 243–269 µs per call for its
// next 5,000 calls instead of ~117 (V8 drops and re-optimises its code), which inflated every ratio to it. Each
// contender runs in its own process and reaches its own steady state; the warm-up cells are not recorded.
import { readFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

/**
 * CPU of the whole process, in µs: `process.cpuUsage()` is getrusage(RUSAGE_SELF), which counts every thread (V8's
 * GC helper threads included; checked by spinning a worker thread while the main thread waits: the worker's time is
 * counted).
 */
function processCpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const MAIN_THREAD_STAT = `/proc/self/task/${process.pid}/stat`;
const CLOCK_TICK_MICROS = 10_000; // USER_HZ is 100 on Linux
/** CPU of the main (JavaScript) thread alone, in µs, at 10 ms resolution; NaN where /proc is missing. */
export function mainThreadCpuMicros() {
  try {
    const fields = readFileSync(MAIN_THREAD_STAT, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MICROS;
  } catch {
    return NaN;
  }
}

/** Main-thread GC pauses (scavenges and mark-compact steps), as V8 reports them to perf_hooks. */
const gcEntries = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcEntries.push(entry);
});
gcObserver.observe({ entryTypes: ['gc'] });

/** Sum of GC pause time (µs) that started in [from, to] (performance.now() ms), and how many collections. */
function gcPauses(from, to) {
  for (const entry of gcObserver.takeRecords()) gcEntries.push(entry);
  let micros = 0;
  let count = 0;
  let kept = 0;
  for (const entry of gcEntries) {
    if (entry.startTime >= from && entry.startTime <= to) {
      micros += entry.duration * 1000;
      count++;
    } else if (entry.startTime > to) gcEntries[kept++] = entry;
  }
  gcEntries.length = kept;
  return { micros, count };
}

function measured(total, seconds, cpu, mainCpu, gc, errors, firstError) {
  return {
    calls: total,
    seconds,
    opsPerSec: total / seconds,
    /** Whole process: JS thread, GC helper threads, everything. */
    cpuMicrosPerCall: cpu / total,
    /** Threads other than the JS thread (mostly V8's GC helpers). */
    otherThreadsMicrosPerCall: Number.isFinite(mainCpu) ? Math.max(0, cpu - mainCpu) / total : NaN,
    /** Main-thread GC pauses. */
    gcPauseMicrosPerCall: gc.micros / total,
    gcCount: gc.count,
    errors,
    firstError,
  };
}

/**
 * Calls `fn()` `total` times with at most `concurrency` calls in flight. Resolves with
 * `{ calls, seconds, opsPerSec, cpuMicrosPerCall, otherThreadsMicrosPerCall, gcPauseMicrosPerCall, gcCount, errors,
 * firstError }`. Every call is awaited; a rejection is counted (a cell with errors is reported as failed, never as
 * fast).
 */
export async function runConcurrent(fn, total, concurrency) {
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
  const main0 = mainThreadCpuMicros();
  const cpu0 = processCpuMicros();
  const p0 = performance.now();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < workers.length; i++) workers[i] = worker();
  await Promise.all(workers);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = processCpuMicros() - cpu0;
  const mainCpu = mainThreadCpuMicros() - main0;
  return measured(total, seconds, cpu, mainCpu, gcPauses(p0, performance.now()), errors, firstError);
}

/** Calls the synchronous `fn()` `total` times in a tight loop. `sink` keeps results alive so nothing is elided. */
export function runSync(fn, total) {
  let sink = 0;
  const main0 = mainThreadCpuMicros();
  const cpu0 = processCpuMicros();
  const p0 = performance.now();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const r = fn();
    if (r) sink++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = processCpuMicros() - cpu0;
  const mainCpu = mainThreadCpuMicros() - main0;
  if (sink !== total) throw new Error(`a call returned a falsy result (${total - sink} of ${total})`);
  return measured(total, seconds, cpu, mainCpu, gcPauses(p0, performance.now()), 0, undefined);
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
