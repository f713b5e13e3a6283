import { ConfigurableModuleBuilder, type Provider, type Type } from '@nestjs/common';
import { createPusherAuthController } from './auth/pusher-auth.controller.js';
import { PusherConfigurationError } from './core/pusher.errors.js';
import type {
  PusherAuthRoutes,
  PusherModuleAsyncOptions,
  PusherModuleExtras,
  PusherModuleOptions,
  PusherModuleSyncOptions,
  PusherWebhookSettings,
} from './interfaces/pusher-module-options.interface.js';
import {
  DEFAULT_CHANNEL_AUTH_PATH,
  DEFAULT_USER_AUTH_PATH,
  DEFAULT_WEBHOOK_PATH,
  PUSHER_AUTHORIZER,
  PUSHER_MODULE_OPTIONS,
  PUSHER_WEBHOOK_SETTINGS,
} from './pusher.constants.js';
import { createPusherWebhooksController } from './webhooks/pusher-webhooks.controller.js';

/** The webhook dispatcher's share of the options: no credentials, so that the secret stays with `PusherService`. */
const webhookSettingsProvider: Provider = {
  provide: PUSHER_WEBHOOK_SETTINGS,
  useFactory: ({ webhooks, webhookMaxAgeMs, webhookClockSkewMs }: PusherModuleOptions): PusherWebhookSettings => ({
    webhooks,
    webhookMaxAgeMs,
    webhookClockSkewMs,
  }),
  inject: [PUSHER_MODULE_OPTIONS],
};

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
      const webhookRoute = resolveWebhookRoute(extras.webhookController);
      if (webhookRoute !== null) controllers.push(createPusherWebhooksController(webhookRoute.path, webhookRoute));
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
        providers: [...(definition.providers ?? []), webhookSettingsProvider, ...authorizerProviders],
        controllers: [...(definition.controllers ?? []), ...controllers],
      };
    },
  )
  .build();

// The public option types are written out in lib/interfaces (so that nothing else imports this file); these lines
// fail to compile if they ever drift from what the builder really takes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const syncOptionsMatch: Same<PusherModuleSyncOptions, typeof PUSHER_MODULE_OPTIONS_TYPE> = true;
const asyncOptionsMatch: Same<PusherModuleAsyncOptions, typeof PUSHER_MODULE_ASYNC_OPTIONS_TYPE> = true;
void syncOptionsMatch;
void asyncOptionsMatch;

function checkPath(path: unknown, option: string): string {
  if (typeof path !== 'string' || path.trim() === '' || /\s/.test(path)) {
    throw new PusherConfigurationError(`PusherModule: ${option} must be a non-empty path without spaces`, option);
  }
  return path;
}

function resolveWebhookRoute(
  setting: PusherModuleExtras['webhookController'],
): { path: string; summary: boolean } | null {
  if (setting === false) return null;
  if (setting === undefined || setting === true) return { path: DEFAULT_WEBHOOK_PATH, summary: false };
  if (setting.summary !== undefined && typeof setting.summary !== 'boolean') {
    throw new PusherConfigurationError(
      `PusherModule: webhookController.summary must be true or false, got ${typeof setting.summary}`,
      'webhookController.summary',
    );
  }
  return {
    path: checkPath(setting.path ?? DEFAULT_WEBHOOK_PATH, 'webhookController.path'),
    summary: setting.summary ?? false,
  };
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
