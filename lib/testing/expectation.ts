import { brandClass } from '../core/brand.js';

/** Partial matching and readable mismatch reports for the testing kit's assertions (no jest needed at runtime). */

/** Thrown by the kit's `expect…` helpers: the message says what was expected and how each candidate differs. */
export class PusherExpectationError extends Error {
  static {
    brandClass(this, 'PusherExpectationError');
  }
  override name = 'PusherExpectationError';
}

/**
 * How `actual` differs from `expected`, one line per difference (empty when it matches). Plain objects match when
 * every expected key matches (extra keys are fine), arrays element by element with the same length, a RegExp tests a
 * string, anything else by `Object.is`.
 */
export function describeMismatch(actual: unknown, expected: unknown, path: string): string[] {
  if (expected instanceof RegExp) {
    return typeof actual === 'string' && new RegExp(expected.source, expected.flags.replace(/[gy]/g, '')).test(actual)
      ? []
      : [`${path}: expected to match ${String(expected)}, got ${show(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${path}: expected ${show(expected)}, got ${show(actual)}`];
    }
    return expected.flatMap((item, index) => describeMismatch(actual[index], item, `${path}[${index}]`));
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return [`${path}: expected an object like ${show(expected)}, got ${show(actual)}`];
    return Object.keys(expected).flatMap((key) => describeMismatch(actual[key], expected[key], `${path}.${key}`));
  }
  return Object.is(actual, expected) ? [] : [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

/** A short one-line rendering of a value for messages. */
export function show(value: unknown): string {
  if (value instanceof RegExp) return String(value);
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text =
      JSON.stringify(value, (_key, inner: unknown) => (inner instanceof RegExp ? String(inner) : inner)) ??
      String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? text.slice(0, 200) + '…' : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
