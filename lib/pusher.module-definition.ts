import { ConfigurableModuleBuilder, type ModuleMetadata, type Provider, type Type } from '@nestjs/common';
import { createPusherAuthController, type PusherAuthRoutes } from './auth/pusher-auth.controller.js';
import { PUSHER_AUTHORIZER, type PusherAuthorizer } from './auth/pusher-authorizer.interface.js';
import { PusherConfigurationError } from './core/pusher.errors.js';
import {
  DEFAULT_CHANNEL_AUTH_PATH,
  DEFAULT_USER_AUTH_PATH,
  DEFAULT_WEBHOOK_PATH,
  PUSHER_MODULE_OPTIONS,
} from './pusher.constants.js';
import type { PusherModuleOptionsShape } from './webhooks/pusher-webhook-options.interface.js';
import { createPusherWebhooksController } from './webhooks/pusher-webhooks.controller.js';

/**
 * The client options, everything `new Pusher()` accepts (`appId`, `key`, `secret`, `cluster`, ...), and `webhooks`
 * (duplicate suppression store, handler timeout).
 */
export type PusherModuleOptions = PusherModuleOptionsShape;

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
  /** The built-in webhook route. Default on at `/pusher/webhooks`; `false` switches it off. */
  webhookController?: boolean | { path?: string };
  /** The built-in auth routes. Default on at `/pusher/auth` and `/pusher/user-auth`; `false` switches them off. */
  authController?: boolean | { channelAuthPath?: string; userAuthPath?: string };
  /**
   * Modules the authorizer's dependencies come from, for `forRoot()` (`forRootAsync()` has its own `imports`,
   * which serve both the options factory and the authorizer).
   */
  imports?: ModuleMetadata['imports'];
}

export const {
  ConfigurableModuleClass: ConfigurablePusherModule,
  OPTIONS_TYPE: PUSHER_MODULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PUSHER_MODULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PusherModuleOptions>({ optionsInjectionToken: PUSHER_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<PusherModuleExtras>(
    { isGlobal: false, authorizer: undefined, webhookController: true, authController: true, imports: [] },
    (definition, extras) => {
      const controllers: Type<unknown>[] = [];
      const webhookPath = resolveWebhookPath(extras.webhookController);
      if (webhookPath !== null) controllers.push(createPusherWebhooksController(webhookPath));
      const authRoutes = resolveAuthRoutes(extras.authController);
      if (authRoutes !== null) controllers.push(createPusherAuthController(authRoutes));

      const authorizerProviders: Provider[] = extras.authorizer
        ? [extras.authorizer, { provide: PUSHER_AUTHORIZER, useExisting: extras.authorizer }]
        : [{ provide: PUSHER_AUTHORIZER, useValue: null }];

      return {
        ...definition,
        global: extras.isGlobal ?? false,
        // forRootAsync() puts its `imports` in the definition; forRoot() has them as an extra.
        imports: [...(definition.imports ?? []), ...(extras.imports ?? [])],
        providers: [...(definition.providers ?? []), ...authorizerProviders],
        controllers: [...(definition.controllers ?? []), ...controllers],
      };
    },
  )
  .build();

export type PusherModuleSyncOptions = typeof PUSHER_MODULE_OPTIONS_TYPE;
export type PusherModuleAsyncOptions = typeof PUSHER_MODULE_ASYNC_OPTIONS_TYPE;

function checkPath(path: unknown, option: string): string {
  if (typeof path !== 'string' || path.trim() === '' || /\s/.test(path)) {
    throw new PusherConfigurationError(`PusherModule: ${option} must be a non-empty path without spaces`, option);
  }
  return path;
}

function resolveWebhookPath(setting: PusherModuleExtras['webhookController']): string | null {
  if (setting === false) return null;
  if (setting === undefined || setting === true) return DEFAULT_WEBHOOK_PATH;
  return checkPath(setting.path ?? DEFAULT_WEBHOOK_PATH, 'webhookController.path');
}

function resolveAuthRoutes(setting: PusherModuleExtras['authController']): PusherAuthRoutes | null {
  if (setting === false) return null;
  if (setting === undefined || setting === true) {
    return { channelAuthPath: DEFAULT_CHANNEL_AUTH_PATH, userAuthPath: DEFAULT_USER_AUTH_PATH };
  }
  return {
    channelAuthPath: checkPath(setting.channelAuthPath ?? DEFAULT_CHANNEL_AUTH_PATH, 'authController.channelAuthPath'),
    userAuthPath: checkPath(setting.userAuthPath ?? DEFAULT_USER_AUTH_PATH, 'authController.userAuthPath'),
  };
}
