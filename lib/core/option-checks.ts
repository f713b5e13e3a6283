import { PusherConfigurationError } from './pusher.errors.js';
import { describeOptionValue } from './redaction.js';

/**
 * The checks of options that more than one public constructor takes (`new Pusher()` through `resolvePusherConfig`,
 * `new UndiciTransport()`, `resolveRetryPolicy`): one function and one wording per kind of option. Values are shown
 * through {@link describeOptionValue}, which never shows a string, so no secret given by mistake reaches a message.
 */

/** Throws the one message shape of every option check: `Pusher option "x" must be …, got ….` */
export function optionError(option: string, requirement: string, ...given: [] | [unknown]): never {
  const got = given.length === 0 ? '' : `, got ${describeOptionValue(given[0])}`;
  throw new PusherConfigurationError(`Pusher option "${option}" must be ${requirement}${got}.`, option);
}

/** `value`, or undefined when absent. @throws PusherConfigurationError unless a positive (integer) number. */
export function checkPositiveNumber(option: string, value: unknown, integer = false): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    optionError(option, `a positive ${integer ? 'integer' : 'number'}`, value);
  }
  return value;
}

/** `value`, or undefined when absent. @throws PusherConfigurationError unless a finite number of at least 0. */
export function checkNonNegativeNumber(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    optionError(option, 'a number of milliseconds, 0 or more', value);
  }
  return value;
}

/**
 * `value`, or undefined when absent.
 * @throws PusherConfigurationError unless an http(s) URL; never shows the value (a proxy URL may carry credentials).
 */
export function checkProxyUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    optionError('proxy', 'an http(s) URL such as "http://127.0.0.1:3128"');
  }
  return value as string;
}
