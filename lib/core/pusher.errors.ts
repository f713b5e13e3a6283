import { brandClass } from './brand.js';
import type { PusherValidationRule } from './rules.js';
import type { TriggerChunkFailure, TriggerChunkResult } from './pusher.types.js';

/** Base class of every error this library throws or rejects with. */
export class PusherError extends Error {
  static {
    brandClass(this, 'PusherError');
  }
  override name = 'PusherError';
}

/** Options given to `new Pusher()` / `Pusher.fromUrl()` / `PusherModule` are unusable. Thrown synchronously at construction. */
export class PusherConfigurationError extends PusherError {
  static {
    brandClass(this, 'PusherConfigurationError');
  }
  override name = 'PusherConfigurationError';
  constructor(
    message: string,
    /** The option at fault, e.g. `encryptionMasterKeyBase64`. */
    readonly option: string,
  ) {
    super(message);
  }
}

/**
 * An argument breaks a protocol rule; nothing was sent.
 * `rule` names the rule (e.g. `channel-name-length`, one of `PusherValidationRule`), `value` the offending value
 * (shortened), `limit` the bound where there is one.
 */
export class PusherValidationError extends PusherError {
  static {
    brandClass(this, 'PusherValidationError');
  }
  override name = 'PusherValidationError';
  readonly rule: PusherValidationRule;
  readonly value: unknown;
  readonly limit: number | string | undefined;

  constructor(options: { message: string; rule: PusherValidationRule; value?: unknown; limit?: number | string }) {
    super(options.message);
    this.rule = options.rule;
    this.value = options.value;
    this.limit = options.limit;
  }
}

/**
 * A call to the HTTP API failed: the server answered non-2xx (`status`, its own words in `body`), or no answer came
 * (`status` 0 and a `code` such as `ETIMEDOUT`, `ECONNREFUSED`, `ECONNRESET`, `EPROXY`, `ENETWORK`, `ECLOSED`; `EINVALIDRESPONSE` with the 2xx status).
 * `path` is the API path without the signed query string.
 */
export class PusherRequestError extends PusherError {
  static {
    brandClass(this, 'PusherRequestError');
  }
  override name = 'PusherRequestError';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: string;
  readonly code: string | undefined;

  constructor(options: {
    message: string;
    method: string;
    path: string;
    status: number;
    body?: string;
    code?: string;
  }) {
    super(options.message);
    this.method = options.method;
    this.path = options.path;
    this.status = options.status;
    this.body = options.body ?? '';
    this.code = options.code;
  }
}

/** Every reason a webhook can be refused for (the docs' refusal table is checked against this list). */
export const PUSHER_WEBHOOK_FAILURES = [
  'missing-key',
  'unknown-key',
  'missing-signature',
  'invalid-signature',
  'malformed-body',
  'stale',
  'missing-raw-body',
] as const;

/** Why a webhook was refused. */
export type PusherWebhookFailure = (typeof PUSHER_WEBHOOK_FAILURES)[number];

/** A webhook request is not authentic or not usable; it must reach no handler. */
export class PusherWebhookError extends PusherError {
  static {
    brandClass(this, 'PusherWebhookError');
  }
  override name = 'PusherWebhookError';
  constructor(
    message: string,
    readonly reason: PusherWebhookFailure,
  ) {
    super(message);
  }
}

/** Failed chunks named in a {@link PusherChunkedTriggerError} message; the rest are counted. */
const FAILED_CHUNKS_SHOWN = 5;

/**
 * Some chunks of `triggerInChunks` / `triggerBatchInChunks` failed. `failed` lists each failed chunk (its position in
 * your list and its error), `succeeded` each accepted chunk and its answer: retry only the failed positions, or the
 * subscribers of the accepted ones get the event twice.
 */
export class PusherChunkedTriggerError<R = unknown> extends PusherError {
  static {
    brandClass(this, 'PusherChunkedTriggerError');
  }
  override name = 'PusherChunkedTriggerError';
  readonly succeeded: ReadonlyArray<TriggerChunkResult<R>>;
  readonly failed: readonly TriggerChunkFailure[];

  constructor(options: {
    /** `triggerInChunks` or `triggerBatchInChunks`. */
    method: string;
    /** What the positions count: `channels` or `events`. */
    items: string;
    succeeded: ReadonlyArray<TriggerChunkResult<R>>;
    failed: readonly TriggerChunkFailure[];
  }) {
    const { method, items, succeeded, failed } = options;
    const describe = (chunk: TriggerChunkFailure): string =>
      `chunk ${chunk.index} (${items} ${chunk.start}-${chunk.end - 1}): ${chunk.error instanceof Error ? chunk.error.message : String(chunk.error)}`;
    const shown = failed.slice(0, FAILED_CHUNKS_SHOWN).map(describe);
    if (failed.length > FAILED_CHUNKS_SHOWN) shown.push(`and ${failed.length - FAILED_CHUNKS_SHOWN} more`);
    const sent = succeeded.length === 0 ? 'none' : succeeded.map((chunk) => chunk.index).join(', ');
    super(
      `${method}: ${failed.length} of ${failed.length + succeeded.length} chunks failed: ${shown.join('; ')}. ` +
        `Chunks accepted: ${sent}. Retry only the failed chunks (error.failed[].start/end), or the accepted ones are delivered twice.`,
    );
    this.succeeded = succeeded;
    this.failed = failed;
  }
}
