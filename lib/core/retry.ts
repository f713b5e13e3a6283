import { PusherConfigurationError } from './pusher.errors.js';
import { describeOptionValue } from './redaction.js';
import type { RetryOptions } from './pusher.options.js';

/** {@link RetryOptions} with every default filled in; `attempts` 1 means no retry. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly retryServerErrors: boolean;
  readonly retryTimeouts: boolean;
}

/** The defaults: 3 attempts, 100 ms to 2000 ms between them, 5xx (but 503) and timeouts not retried. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attempts: 3,
  minDelayMs: 100,
  maxDelayMs: 2000,
  retryServerErrors: false,
  retryTimeouts: false,
});

const NO_RETRY_POLICY: RetryPolicy = Object.freeze({ ...DEFAULT_RETRY_POLICY, attempts: 1 });

/**
 * Checks a `retry` option and fills in its defaults; `false` means one attempt. The one check of that option:
 * `resolvePusherConfig` calls it, and the HTTP client takes the resulting policy as it is.
 * @throws PusherConfigurationError (option `retry`) when a number is not a finite, non-negative value, `attempts` is
 *   not an integer of at least 1, or `minDelayMs` exceeds `maxDelayMs`.
 * @example resolveRetryPolicy({ attempts: 5 }) // { attempts: 5, minDelayMs: 100, maxDelayMs: 2000, ... }
 */
export function resolveRetryPolicy(retry: RetryOptions | false | undefined): RetryPolicy {
  if (retry === false) return NO_RETRY_POLICY;
  if (retry === undefined) return DEFAULT_RETRY_POLICY;
  if (retry === null || typeof retry !== 'object') {
    throw new PusherConfigurationError(
      `Pusher option "retry" must be false or an object { attempts?, minDelayMs?, maxDelayMs? }, got ${describeOptionValue(retry)}.`,
      'retry',
    );
  }
  const attempts = retry.attempts ?? DEFAULT_RETRY_POLICY.attempts;
  const minDelayMs = retry.minDelayMs ?? DEFAULT_RETRY_POLICY.minDelayMs;
  const maxDelayMs = retry.maxDelayMs ?? Math.max(DEFAULT_RETRY_POLICY.maxDelayMs, minDelayMs);
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new PusherConfigurationError(
      `Pusher option "retry.attempts" must be an integer of at least 1 (1 disables retries), got ${describeOptionValue(attempts)}.`,
      'retry',
    );
  }
  for (const [name, value] of [
    ['minDelayMs', minDelayMs],
    ['maxDelayMs', maxDelayMs],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new PusherConfigurationError(
        `Pusher option "retry.${name}" must be a finite number of milliseconds, 0 or more, got ${describeOptionValue(value)}.`,
        'retry',
      );
    }
  }
  if (minDelayMs > maxDelayMs) {
    throw new PusherConfigurationError(
      `Pusher option "retry.minDelayMs" (${minDelayMs}) must not exceed retry.maxDelayMs (${maxDelayMs}).`,
      'retry',
    );
  }
  return Object.freeze({
    attempts,
    minDelayMs,
    maxDelayMs,
    retryServerErrors: retry.retryServerErrors === true,
    retryTimeouts: retry.retryTimeouts === true,
  });
}

/**
 * Whether an answer with this status may be retried: 429 and 503 always (the server asks to come back later);
 * 500, 502 and 504 only with `retryServerErrors` (the event may already have been delivered); never any other status.
 */
export function isRetryableStatus(policy: RetryPolicy, status: number): boolean {
  if (status === 429 || status === 503) return true;
  if (status === 500 || status === 502 || status === 504) return policy.retryServerErrors;
  return false;
}

/**
 * Whether a failure without an answer may be retried: anything before the request was sent (the server cannot have
 * seen it) except a closed client; a timeout or a lost connection after sending only with `retryTimeouts`.
 */
export function isRetryableFailure(policy: RetryPolicy, failure: { code: string; requestSent: boolean }): boolean {
  if (failure.code === 'ECLOSED') return false;
  if (!failure.requestSent) return true;
  if (failure.code === 'ETIMEDOUT' || failure.code === 'ECONNRESET') return policy.retryTimeouts;
  return false;
}

/**
 * Exponential backoff with full jitter: retry n (1-based) waits a uniformly random time between `minDelayMs` and
 * `min(maxDelayMs, minDelayMs * 2^n)`.
 */
export function backoffDelay(policy: RetryPolicy, retryNumber: number, random: () => number = Math.random): number {
  const { minDelayMs, maxDelayMs } = policy;
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.max(1, retryNumber));
  return Math.round(minDelayMs + random() * (ceiling - minDelayMs));
}

const DELAY_SECONDS = /^\s*\d+\s*$/;

/**
 * Parses a `Retry-After` header (delay in seconds, or an HTTP date) into milliseconds from `nowMs`.
 * Returns undefined when absent or unparseable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (DELAY_SECONDS.test(value)) return Number(value.trim()) * 1000;
  // An HTTP date always names a month; a bare number that is not delay-seconds (e.g. "-5", "1.5") is invalid.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * The wait before retry n (1-based): the server's `Retry-After` when it gave one, otherwise {@link backoffDelay}.
 * `undefined` when the server asked for a longer wait than `maxDelayMs`: retrying sooner than asked would not honour
 * it, so the caller gives up and reports the 429/503 instead.
 */
export function retryDelay(
  policy: RetryPolicy,
  retryNumber: number,
  retryAfter: string | undefined,
  nowMs: number,
  random: () => number = Math.random,
): number | undefined {
  const asked = parseRetryAfter(retryAfter, nowMs);
  if (asked !== undefined) return asked <= policy.maxDelayMs ? asked : undefined;
  return backoffDelay(policy, retryNumber, random);
}

/**
 * A retry starts only if waiting `delayMs` and then running an attempt as long as the previous one
 * (`expectedAttemptMs`, at least 1 ms) still ends before the call's deadline.
 */
export function fitsBeforeDeadline(
  nowMs: number,
  delayMs: number,
  expectedAttemptMs: number,
  deadlineMs: number,
): boolean {
  return nowMs + delayMs + Math.max(1, expectedAttemptMs) < deadlineMs;
}

/** Where a call stands when an attempt failed, in the client's clock (ms). */
export interface RetryTiming {
  now: number;
  /** How long the failed attempt took: the next one is expected to take as long. */
  attemptMs: number;
  deadline: number;
}

/**
 * The one retry decision: the wait before attempt `attempt + 1`, or `undefined` to give up (the failure is not
 * `retryable`, the attempts are used up, the server asked for a wait longer than `maxDelayMs`, or the wait and
 * another attempt would not end before the deadline).
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryable: boolean,
  retryAfter: string | undefined,
  timing: RetryTiming,
): number | undefined {
  if (!retryable || attempt >= policy.attempts) return undefined;
  const delay = retryDelay(policy, attempt, retryAfter, timing.now);
  if (delay === undefined || !fitsBeforeDeadline(timing.now, delay, timing.attemptMs, timing.deadline))
    return undefined;
  return delay;
}

/** The `retry` option as a caller writes it. */
export type RetryOptionsOrOff = RetryOptions | false | undefined;
