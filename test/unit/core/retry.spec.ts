import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PusherConfigurationError } from '../../../lib/core/pusher.errors.js';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  fitsBeforeDeadline,
  isRetryableFailure,
  isRetryableStatus,
  nextRetryDelay,
  parseRetryAfter,
  resolveRetryPolicy,
  retryDelay,
} from '../../../lib/core/retry.js';

describe('resolveRetryPolicy', () => {
  it('defaults to 3 attempts, 100 to 2000 ms, no server-error or timeout retries', () => {
    expect(resolveRetryPolicy(undefined)).toEqual({
      attempts: 3,
      minDelayMs: 100,
      maxDelayMs: 2000,
      retryServerErrors: false,
      retryTimeouts: false,
    });
    expect(resolveRetryPolicy({})).toEqual(DEFAULT_RETRY_POLICY);
  });

  it('makes retry: false a single attempt', () => {
    expect(resolveRetryPolicy(false).attempts).toBe(1);
  });

  it('keeps what the user set and fills the rest', () => {
    expect(resolveRetryPolicy({ attempts: 5, retryServerErrors: true })).toEqual({
      attempts: 5,
      minDelayMs: 100,
      maxDelayMs: 2000,
      retryServerErrors: true,
      retryTimeouts: false,
    });
    // A minimum above the default maximum raises the maximum with it instead of failing.
    expect(resolveRetryPolicy({ minDelayMs: 3000 }).maxDelayMs).toBe(3000);
  });

  it('refuses unusable values with a PusherConfigurationError naming the option', () => {
    for (const bad of [
      { attempts: 0 },
      { attempts: 1.5 },
      { attempts: Number.NaN },
      { minDelayMs: -1 },
      { maxDelayMs: Number.POSITIVE_INFINITY },
      { minDelayMs: 500, maxDelayMs: 100 },
    ]) {
      let error: unknown;
      try {
        resolveRetryPolicy(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(PusherConfigurationError);
      expect((error as PusherConfigurationError).option).toBe('retry');
    }
  });
});

describe('isRetryableStatus', () => {
  const plain = resolveRetryPolicy(undefined);
  const serverErrors = resolveRetryPolicy({ retryServerErrors: true });

  it('always retries 429 and 503', () => {
    for (const policy of [plain, serverErrors]) {
      expect(isRetryableStatus(policy, 429)).toBe(true);
      expect(isRetryableStatus(policy, 503)).toBe(true);
    }
  });

  it('retries 500, 502 and 504 only with retryServerErrors', () => {
    for (const status of [500, 502, 504]) {
      expect(isRetryableStatus(plain, status)).toBe(false);
      expect(isRetryableStatus(serverErrors, status)).toBe(true);
    }
  });

  it('never retries any other status, whatever the policy', () => {
    const everything = resolveRetryPolicy({ retryServerErrors: true, retryTimeouts: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }).filter((s) => ![429, 500, 502, 503, 504].includes(s)),
        (status) => !isRetryableStatus(everything, status),
      ),
    );
  });
});

describe('isRetryableFailure', () => {
  const plain = resolveRetryPolicy(undefined);
  const timeouts = resolveRetryPolicy({ retryTimeouts: true });

  it('retries anything the server cannot have seen, except a closed client', () => {
    for (const code of ['ECONNREFUSED', 'EPROXY', 'ENETWORK', 'ETIMEDOUT', 'ECONNRESET']) {
      expect(isRetryableFailure(plain, { code, requestSent: false })).toBe(true);
    }
    expect(isRetryableFailure(plain, { code: 'ECLOSED', requestSent: false })).toBe(false);
    expect(isRetryableFailure(timeouts, { code: 'ECLOSED', requestSent: true })).toBe(false);
  });

  it('retries a timeout or reset after sending only with retryTimeouts', () => {
    for (const code of ['ETIMEDOUT', 'ECONNRESET']) {
      expect(isRetryableFailure(plain, { code, requestSent: true })).toBe(false);
      expect(isRetryableFailure(timeouts, { code, requestSent: true })).toBe(true);
    }
  });

  it('never retries other failures after sending', () => {
    expect(isRetryableFailure(timeouts, { code: 'ENETWORK', requestSent: true })).toBe(false);
    expect(isRetryableFailure(timeouts, { code: 'EPROXY', requestSent: true })).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('stays between minDelayMs and min(maxDelayMs, minDelayMs * 2^n)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (min, extra, retryNumber, r) => {
          const policy = resolveRetryPolicy({ minDelayMs: min, maxDelayMs: min + extra });
          const delay = backoffDelay(policy, retryNumber, () => r);
          const ceiling = Math.min(min + extra, min * 2 ** retryNumber);
          return delay >= min && delay <= ceiling;
        },
      ),
    );
  });

  it('spreads delays (full jitter) and grows the ceiling exponentially up to maxDelayMs', () => {
    const policy = resolveRetryPolicy({ minDelayMs: 100, maxDelayMs: 1000 });
    expect(backoffDelay(policy, 1, () => 0)).toBe(100);
    expect(backoffDelay(policy, 1, () => 0.999999)).toBe(200);
    expect(backoffDelay(policy, 2, () => 0.999999)).toBe(400);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(800);
    expect(backoffDelay(policy, 4, () => 0.999999)).toBe(1000);
    expect(backoffDelay(policy, 10, () => 0.5)).toBe(550);
    const seen = new Set(Array.from({ length: 200 }, () => backoffDelay(policy, 3)));
    expect(seen.size).toBeGreaterThan(20);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date relative to now, and a past date as 0', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('retryDelay', () => {
  const policy = resolveRetryPolicy({ minDelayMs: 100, maxDelayMs: 2000 });

  it("honours the server's Retry-After, and gives up when it asks for more than maxDelayMs", () => {
    expect(retryDelay(policy, 1, '1', 0, () => 0)).toBe(1000);
    expect(retryDelay(policy, 1, '2', 0, () => 0)).toBe(2000);
    // Retrying sooner than the server asked would not honour it.
    expect(retryDelay(policy, 1, '60', 0, () => 0)).toBeUndefined();
    expect(retryDelay(policy, 1, new Date(10_000).toUTCString(), 9_000, () => 0)).toBe(1000);
  });

  it('falls back to the backoff without a usable Retry-After', () => {
    expect(retryDelay(policy, 1, undefined, 0, () => 0)).toBe(100);
    expect(retryDelay(policy, 2, 'later', 0, () => 0.999999)).toBe(400);
  });
});

describe('fitsBeforeDeadline', () => {
  it('lets a retry start only if the wait and an attempt as long as the last one end before the deadline', () => {
    expect(fitsBeforeDeadline(1000, 100, 50, 1200)).toBe(true);
    expect(fitsBeforeDeadline(1000, 100, 150, 1200)).toBe(false);
    expect(fitsBeforeDeadline(1000, 200, 0, 1200)).toBe(false);
    expect(fitsBeforeDeadline(1000, 0, 0, 1002)).toBe(true);
  });
});

describe('nextRetryDelay (the one retry decision of the HTTP client)', () => {
  const policy = resolveRetryPolicy({ attempts: 3, minDelayMs: 100, maxDelayMs: 1000 });
  const roomy = { now: 0, attemptMs: 10, deadline: 10_000 };

  it('gives up on a failure that may not be retried, and once the attempts are used up', () => {
    expect(nextRetryDelay(policy, 1, false, undefined, roomy)).toBeUndefined();
    expect(nextRetryDelay(policy, 3, true, undefined, roomy)).toBeUndefined();
  });

  it("waits the server's Retry-After when it fits within maxDelayMs, and gives up when it asks for more", () => {
    expect(nextRetryDelay(policy, 1, true, '1', roomy)).toBe(1000);
    expect(nextRetryDelay(policy, 1, true, '2', roomy)).toBeUndefined();
  });

  it('backs off within the policy, and gives up when the wait and another attempt would end past the deadline', () => {
    const delay = nextRetryDelay(policy, 1, true, undefined, roomy);
    expect(delay).toBeGreaterThanOrEqual(100);
    expect(delay).toBeLessThanOrEqual(200);
    expect(nextRetryDelay(policy, 1, true, '1', { now: 0, attemptMs: 10, deadline: 1005 })).toBeUndefined();
  });
});
