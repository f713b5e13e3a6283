import { ChannelEncryption, parseMasterKey } from '../core/encryption.js';
import { DEFAULT_TIMEOUT_MS } from '../core/pusher.config.js';
import type { PusherOptions } from '../core/pusher.options.js';
import { hmacSha256, constantTimeEqualDigest, md5Hex } from '../core/signing.js';
import {
  HttpTransportError,
  type HttpTransport,
  type HttpTransportRequest,
  type HttpTransportResponse,
} from '../core/transport/http-transport.js';
import { SERVER_TO_USER_PREFIX } from '../core/rules.js';
import { isEncryptedChannel } from '../core/validation.js';
import { PusherExpectationError, describeMismatch, show } from './expectation.js';

/** Which `Pusher`/`PusherService` method a recorded HTTP call came from. */
export type PusherCallKind =
  | 'trigger'
  | 'triggerBatch'
  | 'sendToUser'
  | 'terminateUserConnections'
  | 'channelsInfo'
  | 'channelInfo'
  | 'usersInfo'
  | 'get'
  | 'post';

/** One event as it was sent (a trigger, one item of a batch, or a `sendToUser`), decoded for the test. */
export interface RecordedPusherEvent {
  /** The call it travelled in: `triggerBatch` also for `trigger` calls coalesced by the `batching` option. */
  via: 'trigger' | 'triggerBatch' | 'sendToUser';
  channels: string[];
  event: string;
  /**
   * `data` parsed back from JSON (a string that is not JSON stays a string); decrypted on `private-encrypted-`
   * channels when the recorder knows the master key (the testing module and the override configure it).
   */
  data: unknown;
  /** `data` exactly as sent: the `{"nonce","ciphertext"}` JSON on an encrypted channel. */
  wireData: string;
  encrypted: boolean;
  /** The connection excluded from receiving it. */
  socketId?: string;
  info?: string[];
  /** The recipient of a `sendToUser`. */
  userId?: string;
}

/** One HTTP API call the client made, decoded, with the answer the recorder gave. */
export interface RecordedPusherCall {
  kind: PusherCallKind;
  method: 'GET' | 'POST';
  /** Path below `/apps/{appId}`, e.g. `/channels/presence-room/users`. */
  path: string;
  /** Query parameters other than the signature's own (`auth_*`, `body_md5`). */
  params: Record<string, string>;
  /** The JSON body, parsed (undefined for GET). */
  body?: unknown;
  /** The events a trigger, batch or sendToUser carried (empty for other calls). */
  events: RecordedPusherEvent[];
  /** `channelInfo`/`usersInfo`: the channel asked about. */
  channel?: string;
  /** `terminateUserConnections`: the user. */
  userId?: string;
  /** What the recorder answered: a status, or the scripted failure. */
  answer: { status: number; body: string } | { failure: PusherScriptedFailure };
}

/** A connection-level failure a test can script. */
export type PusherScriptedFailure = 'timeout' | 'connection-refused' | 'connection-reset';

/** An answer a test scripts: an HTTP status (with body, `Retry-After`, headers), or a failure with no answer. */
export type PusherScriptedAnswer =
  | {
      status: number;
      /** A string is sent as is, anything else JSON-encoded. Default `{}` on 2xx, an error text otherwise. */
      body?: unknown;
      /** The `Retry-After` header (seconds, or an HTTP date). */
      retryAfter?: number | string;
      headers?: Record<string, string>;
    }
  | { failure: PusherScriptedFailure };

/** Which calls a scripted answer applies to: a call kind, or a predicate over the decoded call. */
export type PusherCallSelector = PusherCallKind | ((call: RecordedPusherCall) => boolean);

/** What {@link PusherRecorder.expectEvent} looks for; every field given must match (see `describeMismatch`). */
export interface PusherEventMatch {
  /** Matches when one of the event's channels is this name (or matches this pattern). */
  channel?: string | RegExp;
  /** The exact channel list. */
  channels?: string[];
  event?: string | RegExp;
  /** Partial deep match against the decoded data. */
  data?: unknown;
  socketId?: string | RegExp;
  userId?: string | RegExp;
  via?: RecordedPusherEvent['via'];
  encrypted?: boolean;
}

/** What {@link PusherRecorder.expectCall} looks for. */
export interface PusherCallMatch {
  kind?: PusherCallKind;
  channel?: string | RegExp;
  userId?: string | RegExp;
  params?: Record<string, string | RegExp>;
}

interface Script {
  answer: PusherScriptedAnswer;
  selector: PusherCallSelector | undefined;
  once: boolean;
}

/** What the recorder needs from the client options: who signs, and how encrypted data is decrypted. */
type RecorderCredentials = Pick<PusherOptions, 'appId' | 'key' | 'secret' | 'encryptionMasterKeyBase64' | 'timeout'>;

/**
 * A transport that records every Pusher HTTP API call instead of sending it, checks its signature as the server
 * would (a bad one is answered 401), and answers what the test scripted (by default what Pusher answers on success).
 * Read what was sent with {@link events}/{@link calls}; assert with {@link expectEvent} and friends, which throw a
 * {@link PusherExpectationError} listing every recorded candidate and how it differs.
 *
 * @example
 * recorder.answerNext({ status: 429, retryAfter: 1 }, 'trigger');
 * await service.placeOrder();
 * recorder.expectEvent({ channel: 'private-orders', event: 'order-placed', data: { id: 42 } });
 */
export class PusherRecorder implements HttpTransport {
  /** Scripted timeouts reject at once, as a transport that reached the deadline would. */
  readonly enforcesDeadline = true;
  readonly #calls: RecordedPusherCall[] = [];
  readonly #scripts: Script[] = [];
  #credentials: RecorderCredentials | undefined;
  #encryption: ChannelEncryption | undefined;

  /** Options of the client this recorder stands behind; the testing module calls it for you. */
  configure(options: RecorderCredentials): this {
    this.#credentials = options;
    this.#encryption =
      options.encryptionMasterKeyBase64 === undefined
        ? undefined
        : new ChannelEncryption(parseMasterKey(options.encryptionMasterKeyBase64));
    return this;
  }

  /** Every call so far, in the order they were made. */
  get calls(): readonly RecordedPusherCall[] {
    return this.#calls;
  }

  /** Every event sent so far (triggers, batch items, sendToUser), in order; calls answered with a failure included. */
  get events(): readonly RecordedPusherEvent[] {
    return this.#calls.flatMap((call) => call.events);
  }

  /** Forgets the recorded calls (scripts stay). */
  clear(): void {
    this.#calls.length = 0;
  }

  /** Answers the next matching call (any call without `selector`) with `answer`; scripts queue up in order. */
  answerNext(answer: PusherScriptedAnswer, selector?: PusherCallSelector): this {
    this.#scripts.push({ answer, selector, once: true });
    return this;
  }

  /** Answers every matching call with `answer` until {@link resetAnswers}; later `answerAlways` calls win. */
  answerAlways(answer: PusherScriptedAnswer, selector?: PusherCallSelector): this {
    this.#scripts.push({ answer, selector, once: false });
    return this;
  }

  /** Drops every scripted answer: calls get Pusher's success answers again. */
  resetAnswers(): void {
    this.#scripts.length = 0;
  }

  /** The events matching `match`. */
  findEvents(match: PusherEventMatch = {}): RecordedPusherEvent[] {
    return this.events.filter((event) => eventMismatches(event, match).length === 0);
  }

  /** The calls matching `match`. */
  findCalls(match: PusherCallMatch = {}): RecordedPusherCall[] {
    return this.#calls.filter((call) => callMismatches(call, match).length === 0);
  }

  /**
   * The one event matching `match` (the first, when `times` is not given).
   * @throws PusherExpectationError listing every recorded event and its differences when none (or not `times`) match.
   */
  expectEvent(match: PusherEventMatch, options: { times?: number } = {}): RecordedPusherEvent {
    const found = this.findEvents(match);
    const expectedTimes = options.times;
    if (found.length > 0 && (expectedTimes === undefined || found.length === expectedTimes)) return found[0]!;
    const wanted = expectedTimes === undefined ? 'a Pusher event' : `${expectedTimes} Pusher event(s)`;
    throw new PusherExpectationError(
      `Expected ${wanted} matching ${show(match)}, found ${found.length}.\n` + describeEvents(this.events, match),
    );
  }

  /** @throws PusherExpectationError naming the events that match when any does. */
  expectNoEvent(match: PusherEventMatch = {}): void {
    const found = this.findEvents(match);
    if (found.length === 0) return;
    throw new PusherExpectationError(
      `Expected no Pusher event matching ${show(match)}, found ${found.length}:\n` +
        found.map((event, index) => `  #${index + 1} ${describeEvent(event)}`).join('\n'),
    );
  }

  /**
   * The first call matching `match`, e.g. `{ kind: 'terminateUserConnections', userId: '42' }`.
   * @throws PusherExpectationError listing every recorded call and its differences when none matches.
   */
  expectCall(match: PusherCallMatch): RecordedPusherCall {
    const found = this.findCalls(match);
    if (found.length > 0) return found[0]!;
    const lines =
      this.#calls.length === 0
        ? '  (no call was made)'
        : this.#calls
            .map(
              (call, index) =>
                `  #${index + 1} ${describeCall(call)}\n` +
                callMismatches(call, match)
                  .map((line) => `       ${line}`)
                  .join('\n'),
            )
            .join('\n');
    throw new PusherExpectationError(
      `Expected a Pusher API call matching ${show(match)}, none of ${this.#calls.length} matches.\n${lines}`,
    );
  }

  /** The transport side, called by the client: decode, check the signature, record, answer. */
  async request(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    const call = this.#decode(request);
    const signatureProblem = this.#signatureProblem(request);
    const answer: PusherScriptedAnswer =
      signatureProblem === undefined
        ? (this.#takeScript(call) ?? { status: 200, body: defaultAnswer(call) })
        : { status: 401, body: { error: signatureProblem, code: 401 } };
    if ('failure' in answer) {
      call.answer = { failure: answer.failure };
      this.#calls.push(call);
      throw failureError(answer.failure, this.#credentials?.timeout ?? DEFAULT_TIMEOUT_MS);
    }
    const body =
      answer.body === undefined
        ? answer.status >= 200 && answer.status < 300
          ? '{}'
          : `scripted ${answer.status}`
        : typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body);
    call.answer = { status: answer.status, body };
    this.#calls.push(call);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(answer.headers ?? {})) headers[name.toLowerCase()] = value;
    if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
    return { status: answer.status, headers, body };
  }

  /** Nothing to release. */
  async close(): Promise<void> {}

  #takeScript(call: RecordedPusherCall): PusherScriptedAnswer | undefined {
    const applies = (script: Script): boolean =>
      script.selector === undefined ||
      (typeof script.selector === 'string' ? script.selector === call.kind : script.selector(call));
    const once = this.#scripts.findIndex((script) => script.once && applies(script));
    if (once !== -1) return this.#scripts.splice(once, 1)[0]!.answer;
    for (let index = this.#scripts.length - 1; index >= 0; index--) {
      if (applies(this.#scripts[index]!)) return this.#scripts[index]!.answer;
    }
    return undefined;
  }

  /** As a Pusher server checks a request: key, body_md5, then the HMAC of `METHOD\nPATH\nsorted query`. */
  #signatureProblem(request: HttpTransportRequest): string | undefined {
    const credentials = this.#credentials;
    if (credentials === undefined) return undefined;
    const [path = '', rawQuery = ''] = request.path.split('?', 2);
    const query = new URLSearchParams(rawQuery);
    if (query.get('auth_key') !== credentials.key) return 'auth_key is not the app key';
    if (request.body !== undefined && query.get('body_md5') !== md5Hex(request.body))
      return 'body_md5 does not match the body';
    const signature = query.get('auth_signature') ?? '';
    const signed = [...query.entries()]
      .filter(([name]) => name !== 'auth_signature')
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const expected = hmacSha256(credentials.secret, `${request.method}\n${path}\n${signed}`);
    return constantTimeEqualDigest(expected, signature) ? undefined : 'Invalid signature';
  }

  #decode(request: HttpTransportRequest): RecordedPusherCall {
    const [fullPath = '', rawQuery = ''] = request.path.split('?', 2);
    const appPrefix = /^\/apps\/[^/]+/.exec(fullPath)?.[0] ?? '';
    const path = fullPath.slice(appPrefix.length);
    const params: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(rawQuery)) {
      if (!/^(auth_|body_md5$)/i.test(name)) params[name] = value;
    }
    const body = request.body === undefined ? undefined : parseJson(request.body);
    const call: RecordedPusherCall = {
      kind: 'get',
      method: request.method,
      path,
      params,
      events: [],
      answer: { status: 0, body: '' },
    };
    if (body !== undefined) call.body = body;
    const record = isRecord(body) ? body : {};

    let match: RegExpExecArray | null;
    if (request.method === 'POST' && path === '/events') {
      const channels = Array.isArray(record.channels) ? record.channels.map(String) : [String(record.channel)];
      const userId =
        channels.length === 1 && channels[0]!.startsWith(SERVER_TO_USER_PREFIX)
          ? channels[0]!.slice(SERVER_TO_USER_PREFIX.length)
          : undefined;
      call.kind = userId === undefined ? 'trigger' : 'sendToUser';
      call.events = [this.#decodeEvent(call.kind, channels, record, userId)];
    } else if (request.method === 'POST' && path === '/batch_events') {
      call.kind = 'triggerBatch';
      const items = Array.isArray(record.batch) ? record.batch.filter(isRecord) : [];
      call.events = items.map((item) => this.#decodeEvent('triggerBatch', [String(item.channel)], item, undefined));
    } else if (request.method === 'POST' && (match = /^\/users\/([^/]+)\/terminate_connections$/.exec(path)) !== null) {
      call.kind = 'terminateUserConnections';
      call.userId = decodeURIComponent(match[1]!);
    } else if (request.method === 'GET' && path === '/channels') {
      call.kind = 'channelsInfo';
    } else if (request.method === 'GET' && (match = /^\/channels\/([^/]+)\/users$/.exec(path)) !== null) {
      call.kind = 'usersInfo';
      call.channel = decodeURIComponent(match[1]!);
    } else if (request.method === 'GET' && (match = /^\/channels\/([^/]+)$/.exec(path)) !== null) {
      call.kind = 'channelInfo';
      call.channel = decodeURIComponent(match[1]!);
    } else {
      call.kind = request.method === 'GET' ? 'get' : 'post';
    }
    return call;
  }

  #decodeEvent(
    via: RecordedPusherEvent['via'],
    channels: string[],
    item: Record<string, unknown>,
    userId: string | undefined,
  ): RecordedPusherEvent {
    const wireData = typeof item.data === 'string' ? item.data : JSON.stringify(item.data);
    const channel = channels[0]!;
    const encrypted = channels.length === 1 && isEncryptedChannel(channel);
    let plaintext = wireData;
    if (encrypted && this.#encryption !== undefined) {
      // A payload this key cannot open stays as it was sent: the test sees the ciphertext, not a failed call.
      try {
        plaintext = this.#encryption.decrypt(channel, wireData);
      } catch {
        plaintext = wireData;
      }
    }
    const event: RecordedPusherEvent = {
      via,
      channels,
      event: String(item.name),
      data: parseJsonOr(plaintext),
      wireData,
      encrypted,
    };
    if (typeof item.socket_id === 'string') event.socketId = item.socket_id;
    if (typeof item.info === 'string') event.info = item.info.split(',');
    if (userId !== undefined) event.userId = userId;
    return event;
  }
}

/** What Pusher answers on success when the test scripted nothing. */
function defaultAnswer(call: RecordedPusherCall): unknown {
  switch (call.kind) {
    case 'channelsInfo':
      return { channels: {} };
    case 'channelInfo':
      return { occupied: false };
    case 'usersInfo':
      return { users: [] };
    case 'triggerBatch':
      return call.events.some((event) => event.info !== undefined) ? { batch: call.events.map(() => ({})) } : {};
    default:
      return {};
  }
}

function failureError(failure: PusherScriptedFailure, timeoutMs: number): HttpTransportError {
  switch (failure) {
    case 'timeout':
      // The words the client recognises as its own deadline.
      return new HttpTransportError(`no complete answer within ${timeoutMs} ms`, 'ETIMEDOUT', true);
    case 'connection-refused':
      return new HttpTransportError('connection refused (ECONNREFUSED)', 'ECONNREFUSED', false);
    case 'connection-reset':
      return new HttpTransportError(
        'the connection was closed before a complete answer (ECONNRESET)',
        'ECONNRESET',
        true,
      );
  }
}

function eventMismatches(event: RecordedPusherEvent, match: PusherEventMatch): string[] {
  const lines: string[] = [];
  const { channel, ...rest } = match;
  if (
    channel !== undefined &&
    !event.channels.some((name) => describeMismatch(name, channel, 'channel').length === 0)
  ) {
    lines.push(
      `channel: expected ${show(channel)}, got ${show(event.channels.length === 1 ? event.channels[0] : event.channels)}`,
    );
  }
  for (const [field, expected] of Object.entries(rest)) {
    if (expected === undefined) continue;
    lines.push(...describeMismatch((event as unknown as Record<string, unknown>)[field], expected, field));
  }
  return lines;
}

function callMismatches(call: RecordedPusherCall, match: PusherCallMatch): string[] {
  return Object.entries(match).flatMap(([field, expected]) =>
    expected === undefined
      ? []
      : describeMismatch((call as unknown as Record<string, unknown>)[field], expected, field),
  );
}

function describeEvent(event: RecordedPusherEvent): string {
  const where = event.channels.length === 1 ? event.channels[0] : event.channels;
  const extras = [
    event.socketId === undefined ? '' : ` socketId ${show(event.socketId)}`,
    event.encrypted ? ' (encrypted)' : '',
  ].join('');
  return `${event.via} channel ${show(where)} event ${show(event.event)} data ${show(event.data)}${extras}`;
}

function describeEvents(events: readonly RecordedPusherEvent[], match: PusherEventMatch): string {
  if (events.length === 0) return '  (no event was sent)';
  return events
    .map((event, index) => {
      const differences = eventMismatches(event, match);
      const detail = differences.length === 0 ? ['       (matches)'] : differences.map((line) => `       ${line}`);
      return [`  #${index + 1} ${describeEvent(event)}`, ...detail].join('\n');
    })
    .join('\n');
}

function describeCall(call: RecordedPusherCall): string {
  const params = Object.keys(call.params).length === 0 ? '' : ` ${show(call.params)}`;
  return `${call.kind} ${call.method} ${call.path}${params}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The parsed JSON, or the text itself when it is not JSON (a string the app sent as is). */
function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
