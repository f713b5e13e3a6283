import type { ConfigurableModuleAsyncOptions, ModuleMetadata, Type } from '@nestjs/common';
import type { PusherOptions } from '../core/pusher.options.js';
import type { WebhookDeliveryStore } from '../core/webhook-delivery-store.js';
import type { PusherAuthorizer } from './pusher-authorizer.interface.js';

/** How the Nest layer handles verified webhooks (`webhooks` in the module options). */
export interface PusherWebhookOptions {
  /**
   * Where handled deliveries are remembered, so that a redelivered or replayed webhook runs no handler twice.
   * Default: this process's memory (`MemoryWebhookDeliveryStore`). Replicas behind one URL need a shared store
   * (`RedisWebhookDeliveryStore`). `false` switches duplicate suppression off.
   */
  deliveryStore?: WebhookDeliveryStore | false;
  /**
   * How long the handlers of one webhook may take, in ms, before the route answers 503 so that Pusher delivers it
   * again. Default 4000: Pusher counts an answer later than 4 s as failed anyway. The handlers are not cancelled.
   */
  handlerTimeoutMs?: number;
}

/**
 * The client options, everything `new Pusher()` accepts (`appId`, `key`, `secret`, `cluster`, ...), and `webhooks`
 * (duplicate suppression store, handler timeout).
 */
export interface PusherModuleOptions extends PusherOptions {
  webhooks?: PusherWebhookOptions;
}

/**
 * What `PusherWebhookDispatcher` reads from the module options: the webhook settings and the freshness window (which
 * says how long a handled delivery must be remembered). No credentials.
 */
export type PusherWebhookSettings = Pick<PusherModuleOptions, 'webhooks' | 'webhookMaxAgeMs' | 'webhookClockSkewMs'>;

/** The built-in auth routes' paths, after defaults. */
export interface PusherAuthRoutes {
  channelAuthPath: string;
  userAuthPath: string;
}

/**
 * Settings that shape the module itself. They are given next to the options in `forRoot()` and next to
 * `useFactory`/`useClass`/`useExisting` in `forRootAsync()`, never returned by the factory: which controllers exist
 * and on which paths is decided when Nest scans the modules, before any async factory runs.
 */
export interface PusherModuleExtras {
  /** Register `PusherService` (and the guard's dependencies) globally. Default false. */
  isGlobal?: boolean;
  /**
   * The class that decides channel authorization and user authentication. Registered as a provider of the module,
   * so Nest builds it and it may inject your services (visible through `imports` or a global module).
   */
  authorizer?: Type<PusherAuthorizer<any>>;
  /**
   * The built-in webhook route. Default on at `/pusher/webhooks`; `false` switches it off. A handled delivery is
   * answered 200 with an empty body; with `summary: true` the body is `{ events, handlerRuns, rejectedEvents,
   * duplicate }` (JSON), for debugging and tests; it costs about a fifth of the route's CPU.
   */
  webhookController?: boolean | { path?: string; summary?: boolean };
  /** The built-in auth routes. Default on at `/pusher/auth` and `/pusher/user-auth`; `false` switches them off. */
  authController?: boolean | { channelAuthPath?: string; userAuthPath?: string };
  /**
   * Modules the authorizer's dependencies come from, for `forRoot()` (`forRootAsync()` has its own `imports`,
   * which serve both the options factory and the authorizer).
   */
  imports?: ModuleMetadata['imports'];
}

/** What `PusherModule.forRoot()` takes: the options and the module settings side by side. */
export type PusherModuleSyncOptions = PusherModuleOptions & Partial<PusherModuleExtras>;

/** What `PusherModule.forRootAsync()` takes: `useFactory`/`useClass`/`useExisting`, `imports`, `inject`, and the module settings. */
export type PusherModuleAsyncOptions = ConfigurableModuleAsyncOptions<PusherModuleOptions> &
  Partial<PusherModuleExtras>;
