/**
 * Leak detection for the security specs: a Nest `LoggerService` that keeps every line, and a watch list of the app
 * secret and every signature computed during a spec (issue 6, "Secrets"). Nothing here prints what it captures.
 */
import { inspect } from 'node:util';
import type { LoggerService } from '@nestjs/common';

function render(value: unknown): string {
  return typeof value === 'string'
    ? value
    : inspect(value, { depth: 8, breakLength: Infinity, maxStringLength: Infinity, maxArrayLength: 1000 });
}

/** Keeps every line logged through it (Nest's logger and the core's `logger` option alike). */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];

  log(message: unknown, ...optional: unknown[]): void {
    this.capture('log', message, optional);
  }
  error(message: unknown, ...optional: unknown[]): void {
    this.capture('error', message, optional);
  }
  warn(message: unknown, ...optional: unknown[]): void {
    this.capture('warn', message, optional);
  }
  debug(message: unknown, ...optional: unknown[]): void {
    this.capture('debug', message, optional);
  }
  verbose(message: unknown, ...optional: unknown[]): void {
    this.capture('verbose', message, optional);
  }
  fatal(message: unknown, ...optional: unknown[]): void {
    this.capture('fatal', message, optional);
  }

  /** Lines at one level, e.g. `'error'`. */
  at(level: string): string[] {
    return this.lines.filter((line) => line.startsWith(`${level} `));
  }

  private capture(level: string, message: unknown, optional: unknown[]): void {
    this.lines.push(`${level} ${[message, ...optional].map(render).join(' ')}`);
  }
}

const HEX64 = /[0-9a-f]{64}/gi;

/** The secret plus every signature (64 hex digits) computed in a spec; finds any of them in text. */
export class SecretWatch {
  private readonly signatures = new Set<string>();

  constructor(private readonly secret: string) {}

  /** Remember a signature (hex, any case; a `key:hex` auth string works too). */
  add(signature: string): void {
    for (const hex of signature.match(HEX64) ?? []) this.signatures.add(hex.toLowerCase());
  }

  get size(): number {
    return this.signatures.size;
  }

  /**
   * Descriptions of what leaked into `texts` (never the leaked value itself, so a failure message leaks nothing):
   * e.g. `text #3 contains the secret`, `text #5 contains a watched signature`.
   */
  findLeaks(texts: readonly string[]): string[] {
    const found: string[] = [];
    texts.forEach((text, i) => {
      if (text.includes(this.secret)) found.push(`text #${i} contains the secret`);
      for (const hex of text.match(HEX64) ?? []) {
        if (this.signatures.has(hex.toLowerCase())) {
          found.push(`text #${i} contains a watched signature`);
          break;
        }
      }
    });
    return found;
  }
}

/** `text` with every occurrence of `secret` masked, for failure messages that quote a server's answer. */
export function redact(text: string, secret: string): string {
  return text.split(secret).join('<secret>');
}

/** Everything an error carries that could end up in a log: message, stack, own properties, cause. */
export function errorText(error: unknown): string {
  return inspect(error, { depth: 8, showHidden: true, breakLength: Infinity, maxStringLength: Infinity });
}
