/**
 * pusher-js (the official client, its Node build) connected to a test soketi, with promise helpers for the things a
 * test waits for: the connection, a subscription (or its refusal), an event, sign-in, and a clean disconnect.
 */
import pusherJsExport from 'pusher-js';
import type {
  Channel,
  ChannelAuthorizationHandler,
  Options,
  PresenceChannel,
  UserAuthenticationHandler,
} from 'pusher-js';
import { waitFor, withTimeout } from './wait.js';

// pusher-js is CommonJS with `module.exports = Pusher` but declares `export default`: under `nodenext` TypeScript sees
// the namespace, while Node (and jest's ESM mode) hand over `module.exports` itself as the default import.
type PusherJsClass = typeof pusherJsExport.default;
export const PusherJs: PusherJsClass =
  (pusherJsExport as unknown as { default?: PusherJsClass }).default ?? (pusherJsExport as unknown as PusherJsClass);
export type PusherJsClient = InstanceType<PusherJsClass>;

// pusher-js's Node build uses faye-websocket 0.11, whose close() arms a 30 s timer even when the socket is already
// closed, and nothing clears it then. pusher-js does exactly that when the server closes a connection with a 4xxx
// code (e.g. 4009 after terminateUserConnections): the stray timer would keep jest alive for 30 s. Closing a closed
// socket is a no-op in the WebSocket API, so make it one here.
const FAYE_CLOSED = 3;
interface RuntimeSocket {
  readyState: number;
  close(code?: number, reason?: string): void;
}
const runtime = PusherJs.Runtime as unknown as { createWebSocket(url: string): RuntimeSocket };
const createWebSocket = runtime.createWebSocket.bind(runtime);
runtime.createWebSocket = (url: string): RuntimeSocket => {
  const socket = createWebSocket(url);
  const close = socket.close.bind(socket);
  socket.close = (code?: number, reason?: string): void => {
    if (socket.readyState !== FAYE_CLOSED) close(code, reason);
  };
  return socket;
};
export type { Channel, PresenceChannel };

const DEFAULT_TIMEOUT_MS = 10_000;

/** Where the client connects: a soketi's host and port, and the app key. */
export interface ClientTarget {
  host: string;
  port: number;
  key: string;
}

export interface TestClientOptions {
  /** pusher-js's channel authorization: an endpoint (form-encoded POST, pusher-js's default) or a custom handler. */
  channelAuthEndpoint?: string;
  channelAuthorizer?: ChannelAuthorizationHandler;
  /** pusher-js's user authentication, for `signin()`. */
  userAuthEndpoint?: string;
  userAuthenticator?: UserAuthenticationHandler;
  /** Extra headers on auth requests to the endpoints (e.g. who the test user is). */
  authHeaders?: Record<string, string>;
}

/** What pusher-js reports on `pusher:subscription_error` and `pusher:signin_error`. */
export interface PusherJsAuthError {
  type: string;
  error: string;
  status?: number;
}

/** One pusher-js client with promise-returning helpers. Create with {@link connectClient}; disconnect in `afterEach`/`afterAll`. */
export class TestClient {
  readonly pusher: PusherJsClient;

  constructor(target: ClientTarget, options: TestClientOptions = {}) {
    const config: Options = {
      cluster: 'mt1', // required by pusher-js; wsHost wins
      wsHost: target.host,
      wsPort: target.port,
      forceTLS: false,
      enabledTransports: ['ws'],
      enableStats: false,
    };
    if (options.channelAuthorizer) {
      config.channelAuthorization = { customHandler: options.channelAuthorizer };
    } else if (options.channelAuthEndpoint) {
      config.channelAuthorization = {
        endpoint: options.channelAuthEndpoint,
        transport: 'ajax',
        ...(options.authHeaders ? { headers: options.authHeaders } : {}),
      };
    }
    if (options.userAuthenticator) {
      config.userAuthentication = { customHandler: options.userAuthenticator };
    } else if (options.userAuthEndpoint) {
      config.userAuthentication = {
        endpoint: options.userAuthEndpoint,
        transport: 'ajax',
        ...(options.authHeaders ? { headers: options.authHeaders } : {}),
      };
    }
    this.pusher = new PusherJs(target.key, config);
    openClients.add(this);
  }

  get state(): string {
    return this.pusher.connection.state;
  }

  /** The connection's socket id (only once connected). */
  get socketId(): string {
    const socketId = this.pusher.connection.socket_id;
    if (!socketId) throw new Error(`pusher-js is not connected (state ${this.state})`);
    return socketId;
  }

  /** Resolves with the socket id once connected; rejects if the connection fails or goes unavailable. */
  connected(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    if (this.state === 'connected') return Promise.resolve(this.socketId);
    return withTimeout(
      new Promise<string>((resolve, reject) => {
        const onChange = ({ current }: { current: string }): void => {
          if (current === 'connected') {
            this.pusher.connection.unbind('state_change', onChange);
            resolve(this.socketId);
          } else if (current === 'failed' || current === 'unavailable') {
            this.pusher.connection.unbind('state_change', onChange);
            reject(new Error(`pusher-js connection ${current}`));
          }
        };
        this.pusher.connection.bind('state_change', onChange);
      }),
      timeoutMs,
      'pusher-js to connect',
    );
  }

  /** Subscribes and resolves once soketi confirmed; rejects with the subscription error otherwise. */
  subscribe<C extends Channel = Channel>(channelName: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<C> {
    const channel = this.pusher.subscribe(channelName) as C;
    if (channel.subscribed) return Promise.resolve(channel);
    return withTimeout(
      new Promise<C>((resolve, reject) => {
        channel.bind('pusher:subscription_succeeded', () => resolve(channel));
        channel.bind('pusher:subscription_error', (error: PusherJsAuthError) =>
          reject(new Error(`subscription to ${channelName} failed: ${JSON.stringify(error)}`)),
        );
      }),
      timeoutMs,
      `the subscription to ${channelName} to succeed`,
    );
  }

  /** Subscribes expecting a refusal: resolves with pusher-js's subscription error, rejects if it succeeds. */
  subscribeExpectingError(channelName: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<PusherJsAuthError> {
    const channel = this.pusher.subscribe(channelName);
    return withTimeout(
      new Promise<PusherJsAuthError>((resolve, reject) => {
        channel.bind('pusher:subscription_succeeded', () =>
          reject(new Error(`subscription to ${channelName} succeeded but was expected to be refused`)),
        );
        channel.bind('pusher:subscription_error', (error: PusherJsAuthError) => resolve(error));
      }),
      timeoutMs,
      `the subscription to ${channelName} to fail`,
    );
  }

  /**
   * Starts recording `event` on an already subscribed channel; `next()` resolves with the next data not yet taken.
   * Bind before causing the event, so none is missed.
   */
  record<T = unknown>(channel: Channel, event: string): EventRecorder<T> {
    const recorder = new EventRecorder<T>(`${event} on ${channel.name}`);
    channel.bind(event, (data: T) => recorder.push(data));
    return recorder;
  }

  /** Signs in (`pusher.signin()`) and resolves with the user data soketi accepted; rejects on `pusher:signin_error`. */
  signin(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Record<string, unknown>> {
    const { user } = this.pusher;
    return withTimeout(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const onMessage = (message: { event: string; data?: { user_data?: string } }): void => {
          if (message.event === 'pusher:signin_success') {
            this.pusher.connection.unbind('message', onMessage);
            resolve(JSON.parse(message.data?.user_data ?? 'null') as Record<string, unknown>);
          } else if (message.event === 'pusher:error') {
            this.pusher.connection.unbind('message', onMessage);
            reject(new Error(`soketi refused the sign-in: ${JSON.stringify(message.data)}`));
          }
        };
        this.pusher.connection.bind('message', onMessage);
        user.bind('pusher:signin_error', (error: PusherJsAuthError) => {
          this.pusher.connection.unbind('message', onMessage);
          reject(Object.assign(new Error(`sign-in failed: ${JSON.stringify(error)}`), { detail: error }));
        });
        this.pusher.signin();
      }),
      timeoutMs,
      'the sign-in to succeed',
    );
  }

  /** Signs in expecting a refusal: resolves with pusher-js's `pusher:signin_error`, rejects if soketi accepts it. */
  signinExpectingError(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<PusherJsAuthError> {
    return withTimeout(
      new Promise<PusherJsAuthError>((resolve, reject) => {
        const onMessage = (message: { event: string }): void => {
          if (message.event === 'pusher:signin_success') {
            this.pusher.connection.unbind('message', onMessage);
            reject(new Error('the sign-in succeeded but was expected to be refused'));
          }
        };
        this.pusher.connection.bind('message', onMessage);
        this.pusher.user.bind('pusher:signin_error', (error: PusherJsAuthError) => {
          this.pusher.connection.unbind('message', onMessage);
          resolve(error);
        });
        this.pusher.signin();
      }),
      timeoutMs,
      'the sign-in to be refused',
    );
  }

  /** Resolves once the server-to-user channel (subscribed by pusher-js after sign-in) is confirmed. */
  async userChannelReady(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await waitFor(() => this.pusher.user.serverToUserChannel?.subscribed === true, {
      timeoutMs,
      description: 'the server-to-user channel subscription',
    });
  }

  /** Resolves once the connection leaves `connected` (e.g. soketi closed it); with the new state. */
  dropped(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return withTimeout(
      new Promise<string>((resolve) => {
        const onChange = ({ previous, current }: { previous: string; current: string }): void => {
          if (previous === 'connected' && current !== 'connected') {
            this.pusher.connection.unbind('state_change', onChange);
            resolve(current);
          }
        };
        this.pusher.connection.bind('state_change', onChange);
      }),
      timeoutMs,
      'the connection to be dropped',
    );
  }

  /** Disconnects and resolves once pusher-js reports `disconnected` (or was never connected). Idempotent. */
  async disconnect(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    openClients.delete(this);
    const state = this.state;
    if (state === 'disconnected' || state === 'failed') {
      this.pusher.disconnect();
      return;
    }
    const done = new Promise<void>((resolve) => {
      const onChange = ({ current }: { current: string }): void => {
        if (current === 'disconnected' || current === 'failed') {
          this.pusher.connection.unbind('state_change', onChange);
          resolve();
        }
      };
      this.pusher.connection.bind('state_change', onChange);
    });
    this.pusher.disconnect();
    await withTimeout(done, timeoutMs, 'pusher-js to disconnect');
  }
}

/** Collects one event's data in arrival order. */
export class EventRecorder<T> {
  readonly received: T[] = [];
  private taken = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly description: string) {}

  push(data: T): void {
    this.received.push(data);
    this.waiters.splice(0).forEach((wake) => wake());
  }

  /** The next event not yet returned by `next()`. */
  async next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.taken >= this.received.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${this.description}`);
      await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), left, this.description);
    }
    return this.received[this.taken++]!;
  }
}

const openClients = new Set<TestClient>();

/** Creates a client and waits until it is connected. */
export async function connectClient(target: ClientTarget, options: TestClientOptions = {}): Promise<TestClient> {
  const client = new TestClient(target, options);
  try {
    await client.connected();
  } catch (error) {
    await client.disconnect().catch(() => undefined);
    throw error;
  }
  return client;
}

/** Disconnects every client still open (call it in `afterAll`, so no socket keeps jest alive). */
export async function disconnectAllClients(): Promise<void> {
  await Promise.all([...openClients].map((client) => client.disconnect()));
}
