import { randomInt } from 'node:crypto';
import type { PresenceData, UserData } from '../core/pusher.types.js';
import {
  DEFAULT_CHANNEL_AUTH_PATH,
  DEFAULT_USER_AUTH_PATH,
  DEFAULT_WEBHOOK_PATH,
  PUSHER_MODULE_OPTIONS,
} from '../pusher.constants.js';
import type { PusherModuleOptions } from '../interfaces/pusher-module-options.interface.js';
import { PusherService } from '../pusher.service.js';
import { PusherWebhookDispatcher, type PusherWebhookDispatchResult } from '../webhooks/pusher-webhook.dispatcher.js';
import { verifyChannelAuthorization, verifyUserAuthentication } from './pusher-auth.testing.js';
import { PusherExpectationError, show } from './expectation.js';
import { signPusherWebhook, type PusherWebhookEventInput, type SignedPusherWebhook } from './pusher-webhook.testing.js';

/** The part of a Nest application the client uses (`INestApplication` fits, on Express and on Fastify). */
export interface PusherTestApplication {
  get<T = any>(token: unknown, options?: { strict?: boolean }): T;
  getHttpServer(): any;
  listen(port: number, host: string): Promise<unknown>;
}

/** Where the app's routes are, when they are not the defaults. */
export interface PusherTestClientOptions {
  webhookPath?: string;
  channelAuthPath?: string;
  userAuthPath?: string;
}

/** An HTTP answer: status, parsed JSON body (or the text), headers. */
export interface PusherHttpAnswer {
  status: number;
  body: unknown;
  text: string;
  headers: Record<string, string>;
}

/** One request as pusher-js makes it. `headers` carry who is asking (a cookie, a token). */
export interface PusherAuthRequestOptions {
  /** Default: a fresh random socket id. */
  socketId?: string;
  headers?: Record<string, string>;
  path?: string;
  /** For `expectChannelAuthorized`: accept a presence answer for the signed-in user (no `channel_data`). */
  signedIn?: boolean;
}

/** Sending a webhook over HTTP. */
export interface PusherWebhookSendOptions {
  path?: string;
  /** Default: a fresh time (see `freshWebhookTimeMs`). */
  timeMs?: number;
  /** Added to (or, when `undefined`, removed from) the signed webhook's headers. */
  headers?: Record<string, string | undefined>;
}

/**
 * Drives a Nest app the way Pusher and pusher-js do, over real HTTP: signed webhooks to the built-in route or the
 * app's own `@PusherWebhook()` route (or straight to the dispatcher), and form-encoded channel authorization and user
 * authentication requests whose answers it can verify as a Pusher server would. Credentials come from the app's own
 * `PusherModule` options. The app is started on 127.0.0.1 with a free port if it is not listening yet; the test still
 * closes it with `app.close()`. Create the app with `{ rawBody: true }`, as in production.
 *
 * @example
 * const pusher = await PusherTestClient.create(app);
 * await pusher.expectWebhookAccepted([{ name: 'member_added', channel: 'presence-room', user_id: '42' }]);
 * await pusher.expectChannelRefused('private-admin', { headers: { cookie: 'user=mallory' } });
 */
export class PusherTestClient {
  private constructor(
    /** The app's base URL, e.g. `http://127.0.0.1:41234`. */
    readonly url: string,
    private readonly app: PusherTestApplication,
    private readonly paths: Required<PusherTestClientOptions>,
  ) {}

  static async create(app: PusherTestApplication, options: PusherTestClientOptions = {}): Promise<PusherTestClient> {
    const server = app.getHttpServer() as { listening?: boolean; address(): { port: number } | string | null };
    if (server.listening !== true) await app.listen(0, '127.0.0.1');
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new Error('PusherTestClient: the app does not listen on a TCP port.');
    return new PusherTestClient(`http://127.0.0.1:${address.port}`, app, {
      webhookPath: options.webhookPath ?? DEFAULT_WEBHOOK_PATH,
      channelAuthPath: options.channelAuthPath ?? DEFAULT_CHANNEL_AUTH_PATH,
      userAuthPath: options.userAuthPath ?? DEFAULT_USER_AUTH_PATH,
    });
  }

  /** The app's own Pusher options (key, secret, master key). */
  get options(): PusherModuleOptions {
    return this.app.get<PusherModuleOptions>(PUSHER_MODULE_OPTIONS, { strict: false });
  }

  /** A webhook signed with the app's credentials (fresh `time_ms` unless given). */
  signWebhook(events: readonly PusherWebhookEventInput[], options: { timeMs?: number } = {}): SignedPusherWebhook {
    return signPusherWebhook(events, this.options, options);
  }

  /** Signs `events` and POSTs them as Pusher would; resolves with the app's answer, whatever its status. */
  sendWebhook(
    events: readonly PusherWebhookEventInput[],
    options: PusherWebhookSendOptions = {},
  ): Promise<PusherHttpAnswer> {
    return this.postWebhook(
      this.signWebhook(events, options.timeMs === undefined ? {} : { timeMs: options.timeMs }),
      options,
    );
  }

  /** POSTs an already signed (perhaps altered, perhaps already sent) webhook. */
  async postWebhook(
    webhook: SignedPusherWebhook,
    options: Omit<PusherWebhookSendOptions, 'timeMs'> = {},
  ): Promise<PusherHttpAnswer> {
    const headers: Record<string, string> = { ...webhook.headers };
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (value === undefined) delete headers[name.toLowerCase() as keyof typeof headers];
      else headers[name.toLowerCase()] = value;
    }
    return this.post(options.path ?? this.paths.webhookPath, headers, webhook.body);
  }

  /**
   * Sends the webhook and checks the app accepted it (2xx).
   * @throws PusherExpectationError with the status and the app's answer otherwise.
   */
  async expectWebhookAccepted(
    events: readonly PusherWebhookEventInput[],
    options: PusherWebhookSendOptions = {},
  ): Promise<PusherHttpAnswer> {
    const answer = await this.sendWebhook(events, options);
    if (answer.status < 200 || answer.status >= 300) {
      throw new PusherExpectationError(
        `Expected the webhook ${show(events)} to be accepted (2xx) at ${options.path ?? this.paths.webhookPath}, the app answered ${answer.status} ${show(answer.body)}.`,
      );
    }
    return answer;
  }

  /**
   * Posts the webhook and checks the app refused it with `status` (401 by default: not authentic).
   * @throws PusherExpectationError when the app answered anything else.
   */
  async expectWebhookRefused(
    webhook: SignedPusherWebhook,
    options: Omit<PusherWebhookSendOptions, 'timeMs'> & { status?: number } = {},
  ): Promise<PusherHttpAnswer> {
    const answer = await this.postWebhook(webhook, options);
    const status = options.status ?? 401;
    if (answer.status !== status) {
      throw new PusherExpectationError(
        `Expected the webhook to be refused with ${status}, the app answered ${answer.status} ${show(answer.body)}.`,
      );
    }
    return answer;
  }

  /**
   * Signs `events`, verifies them with the app's `PusherService` as its guard would, and hands them to the app's
   * dispatcher: every matching `@OnPusherEvent()` handler runs, no HTTP involved. Rejects with
   * `PusherWebhookDispatchError` when a handler failed.
   */
  dispatchWebhook(
    events: readonly PusherWebhookEventInput[],
    options: { timeMs?: number } = {},
  ): Promise<PusherWebhookDispatchResult> {
    const webhook = this.signWebhook(events, options);
    const payload = this.app.get(PusherService, { strict: false }).verifyWebhook({
      key: webhook.headers['x-pusher-key'],
      signature: webhook.headers['x-pusher-signature'],
      body: webhook.body,
    });
    return this.app.get(PusherWebhookDispatcher, { strict: false }).dispatch(payload);
  }

  /** POSTs `socket_id` and `channel_name`, form-encoded, to the channel authorization route, as pusher-js does. */
  async authorizeChannel(
    channelName: string,
    options: PusherAuthRequestOptions = {},
  ): Promise<PusherHttpAnswer & { socketId: string }> {
    const socketId = options.socketId ?? randomSocketId();
    const body = new URLSearchParams({ socket_id: socketId, channel_name: channelName }).toString();
    const answer = await this.post(options.path ?? this.paths.channelAuthPath, formHeaders(options.headers), body);
    return { ...answer, socketId };
  }

  /** POSTs `socket_id`, form-encoded, to the user authentication route, as pusher-js's `signin()` does. */
  async authenticateUser(options: PusherAuthRequestOptions = {}): Promise<PusherHttpAnswer & { socketId: string }> {
    const socketId = options.socketId ?? randomSocketId();
    const body = new URLSearchParams({ socket_id: socketId }).toString();
    const answer = await this.post(options.path ?? this.paths.userAuthPath, formHeaders(options.headers), body);
    return { ...answer, socketId };
  }

  /**
   * Asks for `channelName` and checks the answer is a 200 that a Pusher server would accept. Returns the presence
   * member data for presence channels.
   * @throws PusherExpectationError with the status and the app's answer otherwise.
   */
  async expectChannelAuthorized(
    channelName: string,
    options: PusherAuthRequestOptions = {},
  ): Promise<{ channelData?: PresenceData }> {
    const answer = await this.authorizeChannel(channelName, options);
    if (answer.status !== 200) {
      throw new PusherExpectationError(
        `Expected ${channelName} to be authorized (200), the app answered ${answer.status} ${show(answer.body)}.`,
      );
    }
    return verifyChannelAuthorization(this.options, { socketId: answer.socketId, channelName }, answer.body, {
      signedIn: options.signedIn,
    });
  }

  /**
   * Asks for `channelName` and checks the app refused it with `status` (403 by default).
   * @throws PusherExpectationError when it answered otherwise, e.g. signed a subscription it should not have.
   */
  async expectChannelRefused(
    channelName: string,
    options: PusherAuthRequestOptions & { status?: number } = {},
  ): Promise<PusherHttpAnswer> {
    const answer = await this.authorizeChannel(channelName, options);
    const status = options.status ?? 403;
    if (answer.status !== status) {
      const signed = answer.status === 200 ? ' (a signed subscription: the authorizer allowed it)' : '';
      throw new PusherExpectationError(
        `Expected ${channelName} to be refused with ${status}, the app answered ${answer.status}${signed} ${show(answer.body)}.`,
      );
    }
    return answer;
  }

  /**
   * Signs in and checks the answer is a 200 that a Pusher server would accept; returns the user data.
   * @throws PusherExpectationError otherwise.
   */
  async expectUserAuthenticated(options: PusherAuthRequestOptions = {}): Promise<UserData> {
    const answer = await this.authenticateUser(options);
    if (answer.status !== 200) {
      throw new PusherExpectationError(
        `Expected the user to be signed in (200), the app answered ${answer.status} ${show(answer.body)}.`,
      );
    }
    return verifyUserAuthentication(this.options, { socketId: answer.socketId }, answer.body);
  }

  /**
   * Signs in and checks the app refused with `status` (403 by default).
   * @throws PusherExpectationError otherwise.
   */
  async expectUserRefused(options: PusherAuthRequestOptions & { status?: number } = {}): Promise<PusherHttpAnswer> {
    const answer = await this.authenticateUser(options);
    const status = options.status ?? 403;
    if (answer.status !== status) {
      throw new PusherExpectationError(
        `Expected the sign-in to be refused with ${status}, the app answered ${answer.status} ${show(answer.body)}.`,
      );
    }
    return answer;
  }

  private async post(path: string, headers: Record<string, string>, body: string): Promise<PusherHttpAnswer> {
    const response = await fetch(this.url + path, { method: 'POST', headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: the text is the body.
    }
    return { status: response.status, body: parsed, text, headers: Object.fromEntries(response.headers) };
  }
}

function formHeaders(headers: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/x-www-form-urlencoded', ...headers };
}

/** A socket id of the shape Pusher assigns (`digits.digits`). */
export function randomSocketId(): string {
  return `${randomInt(1, 2 ** 31)}.${randomInt(1, 2 ** 31)}`;
}
