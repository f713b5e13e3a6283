import './support/nest-app.js';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ConsoleLogger, Inject, Injectable, Logger, type LoggerService, type LogLevel, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { inspect } from 'node:util';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  Pusher,
  PUSHER_AUTHORIZER,
  PusherConfigurationError,
  PusherModule,
  type PusherAuthorizer,
  type PusherModuleOptions,
  PusherService,
  PusherWebhookDispatcher,
  PusherWebhookGuard,
} from 'nest-pusher';
import * as publicApi from 'nest-pusher';
import { PUSHER_MODULE_OPTIONS, PUSHER_WEBHOOK_SETTINGS } from '../../../lib/pusher.constants.js';
import { APP, captureLogs } from './support/nest-app.js';

const modules: TestingModule[] = [];
async function compile(imports: any[], providers: any[] = []): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
  modules.push(moduleRef);
  return moduleRef;
}
afterEach(async () => {
  await Promise.all(modules.splice(0).map((moduleRef) => moduleRef.close()));
});

@Injectable()
class UsersService {
  isAllowed(channel: string): boolean {
    return channel === 'private-allowed';
  }
}
@Module({ providers: [UsersService], exports: [UsersService] })
class UsersModule {}

@Injectable()
class UsersAuthorizer implements PusherAuthorizer {
  constructor(readonly users: UsersService) {}
  authorizeChannel({ channel }: { channel: string }) {
    return this.users.isAllowed(channel);
  }
  authenticateUser() {
    return false as const;
  }
}

describe('PusherModule.forRoot', () => {
  it('provides a PusherService that is the whole core client, built from the options', async () => {
    const moduleRef = await compile([PusherModule.forRoot({ ...APP, cluster: 'eu' })]);
    const service = moduleRef.get(PusherService);
    expect(service).toBeInstanceOf(Pusher);
    expect(service.appId).toBe(APP.appId);
    expect(service.key).toBe(APP.key);
    for (const method of [
      'trigger',
      'triggerBatch',
      'sendToUser',
      'terminateUserConnections',
      'channelsInfo',
      'channelInfo',
      'usersInfo',
      'authorizeChannel',
      'authenticateUser',
      'validateWebhook',
      'verifyWebhook',
      'get',
      'post',
      'close',
    ] as const) {
      expect(typeof service[method]).toBe('function');
    }
    // A real signature, checked independently: the docs' private-channel vector needs the docs' credentials.
    const docs = await compile([
      PusherModule.forRoot({ appId: '3', key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8' }),
    ]);
    expect(docs.get(PusherService).authorizeChannel('1234.1234', 'private-foobar')).toEqual({
      auth: '278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4',
    });
  });

  it("keeps the extras out of the options the client receives, and leaves the caller's object alone", async () => {
    const options = {
      ...APP,
      isGlobal: false,
      authorizer: UsersAuthorizer,
      webhookController: false as const,
      authController: false as const,
      imports: [UsersModule],
    };
    const snapshot = { ...options };
    const moduleRef = await compile([PusherModule.forRoot(options)]);
    expect(moduleRef.get(PUSHER_MODULE_OPTIONS)).toEqual(APP);
    expect(options).toEqual(snapshot);
  });

  it('keeps the options token private: not in the package, not exported by the module', async () => {
    expect(Object.keys(publicApi)).not.toContain('PUSHER_MODULE_OPTIONS');
    @Injectable()
    class ReadsOptions {
      constructor(@Inject(PUSHER_MODULE_OPTIONS) readonly options: unknown) {}
    }
    await expect(
      Test.createTestingModule({
        imports: [PusherModule.forRoot({ ...APP, isGlobal: true })],
        providers: [ReadsOptions],
      }).compile(),
    ).rejects.toThrow(/PUSHER_MODULE_OPTIONS/);
  });

  it('hands the dispatcher its webhook settings without the credentials', async () => {
    const webhooks = { handlerTimeoutMs: 1234 };
    const moduleRef = await compile([PusherModule.forRoot({ ...APP, webhooks, webhookMaxAgeMs: 60_000 })]);
    expect(moduleRef.get(PUSHER_WEBHOOK_SETTINGS)).toEqual({
      webhooks,
      webhookMaxAgeMs: 60_000,
      webhookClockSkewMs: undefined,
    });
  });

  it('provides the guard and the dispatcher', async () => {
    const moduleRef = await compile([PusherModule.forRoot(APP)]);
    expect(moduleRef.get(PusherWebhookGuard)).toBeInstanceOf(PusherWebhookGuard);
    expect(moduleRef.get(PusherWebhookDispatcher)).toBeInstanceOf(PusherWebhookDispatcher);
    expect(moduleRef.get(PUSHER_AUTHORIZER)).toBeNull();
  });

  it("fails the start with the core's PusherConfigurationError on unusable options", async () => {
    await expect(
      Test.createTestingModule({ imports: [PusherModule.forRoot({ appId: '1', key: 'k', secret: '' })] }).compile(),
    ).rejects.toBeInstanceOf(PusherConfigurationError);
  });

  it('fails the start on an unusable webhooks.handlerTimeoutMs or deliveryStore, naming the option', async () => {
    for (const [webhooks, option] of [
      [{ handlerTimeoutMs: 0 }, 'webhooks.handlerTimeoutMs'],
      [{ deliveryStore: {} }, 'webhooks.deliveryStore'],
    ] as const) {
      await expect(
        Test.createTestingModule({
          imports: [PusherModule.forRoot({ appId: '1', key: 'k', secret: 's', webhooks: webhooks as never })],
        }).compile(),
      ).rejects.toMatchObject({ option });
    }
  });

  it('fails the start on webhooks.handlerTimeoutMs holding a secret without showing it (or any additional secret)', async () => {
    const additional = 'next-secret-never-log-81q';
    for (const handlerTimeoutMs of [APP.secret, additional, `${APP.secret}x`]) {
      const error = await Test.createTestingModule({
        imports: [
          PusherModule.forRoot({
            ...APP,
            additionalKeys: [{ key: 'next-key', secret: additional }],
            webhooks: { handlerTimeoutMs: handlerTimeoutMs as never },
          }),
        ],
      })
        .compile()
        .then(
          () => undefined,
          (caught: unknown) => caught as PusherConfigurationError,
        );
      expect(error).toBeInstanceOf(PusherConfigurationError);
      expect(error!.option).toBe('webhooks.handlerTimeoutMs');
      const everything = [
        error!.message,
        error!.stack ?? '',
        JSON.stringify(error),
        inspect(error, { showHidden: true }),
      ].join('\n');
      expect(everything).not.toContain(APP.secret);
      expect(everything).not.toContain(additional);
    }
  });

  it('refuses an empty route path at registration time', () => {
    expect(() => PusherModule.forRoot({ ...APP, webhookController: { path: ' ' } })).toThrow(PusherConfigurationError);
    expect(() => PusherModule.forRoot({ ...APP, authController: { userAuthPath: '' } })).toThrow(
      /authController\.userAuthPath/,
    );
  });

  it('builds the authorizer with Nest DI, its dependencies coming from `imports`', async () => {
    const moduleRef = await compile([
      PusherModule.forRoot({ ...APP, authorizer: UsersAuthorizer, imports: [UsersModule] }),
    ]);
    const authorizer = moduleRef.get<UsersAuthorizer>(PUSHER_AUTHORIZER);
    expect(authorizer).toBeInstanceOf(UsersAuthorizer);
    expect(authorizer.users).toBeInstanceOf(UsersService);
  });

  it('closes the client when the application shuts down', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [PusherModule.forRoot(APP)] }).compile();
    const service = moduleRef.get(PusherService);
    const close = jest.spyOn(service, 'close');
    await moduleRef.close();
    expect(close).toHaveBeenCalledTimes(1);
    await expect(service.trigger('my-channel', 'my-event', {})).rejects.toThrow(/closed/);
  });
});

describe('PusherService logging', () => {
  /** Answers every call with 200 `{}` (no network: this is about what gets logged). */
  const okTransport = { request: async () => ({ status: 200, headers: {}, body: '{}' }) };

  it("writes debug lines while Nest's own logger prints them with no levels set (a Nest 11 app without `logger`)", async () => {
    const statics = Logger as unknown as { logLevels?: LogLevel[]; staticInstanceRef?: LoggerService };
    const saved = { levels: statics.logLevels, instance: statics.staticInstanceRef };
    const logs = captureLogs();
    try {
      // A fresh application's state: no levels set, Nest's ConsoleLogger with its defaults (debug included).
      statics.logLevels = undefined;
      statics.staticInstanceRef = new ConsoleLogger('Test');
      const moduleRef = await compile([PusherModule.forRoot({ ...APP, transport: okTransport })]);
      await moduleRef.get(PusherService).trigger('my-channel', 'my-event', {});
      expect(logs.lines('debug')).toEqual([expect.stringMatching(/^POST \/apps\/\d+\/events 200 \d+ms$/)]);
      // The same logger told to print errors and warnings only: no debug line is built.
      statics.staticInstanceRef = new ConsoleLogger('Test', { logLevels: ['error', 'warn'] });
      await moduleRef.get(PusherService).trigger('my-channel', 'my-event', {});
      expect(logs.lines('debug')).toHaveLength(1);
    } finally {
      logs.restore();
      statics.logLevels = saved.levels;
      statics.staticInstanceRef = saved.instance;
    }
  });

  it("writes one debug line per call through Nest's Logger while the debug level is on, and none while it is off", async () => {
    const statics = Logger as unknown as { logLevels?: LogLevel[] };
    const levels = statics.logLevels;
    const logs = captureLogs();
    try {
      const moduleRef = await compile([PusherModule.forRoot({ ...APP, transport: okTransport })]);
      const service = moduleRef.get(PusherService);
      Logger.overrideLogger(['error', 'warn', 'log', 'debug']);
      await service.trigger('my-channel', 'my-event', {});
      expect(logs.lines('debug')).toEqual([expect.stringMatching(/^POST \/apps\/\d+\/events 200 \d+ms$/)]);
      Logger.overrideLogger(['error', 'warn']);
      await service.trigger('my-channel', 'my-event', {});
      expect(logs.lines('debug')).toHaveLength(1);
    } finally {
      logs.restore();
      statics.logLevels = levels;
    }
  });
});

describe('PusherService on application shutdown', () => {
  it('waits for calls in flight before the application has closed, then refuses new ones', async () => {
    const order: string[] = [];
    const slowTransport = {
      request: () =>
        new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve) =>
          setTimeout(() => {
            order.push('answered');
            resolve({ status: 200, headers: {}, body: '{}' });
          }, 200),
        ),
      close: async () => {
        order.push('transport closed');
      },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [PusherModule.forRoot({ ...APP, transport: slowTransport })],
    }).compile();
    const service = moduleRef.get(PusherService);
    const inFlight = service.trigger('my-channel', 'my-event', {}).then(() => order.push('trigger resolved'));
    await moduleRef.close();
    order.push('application closed');
    await inFlight;
    // The answer arrives before the pool closes, and the caller has its result before the application is closed.
    expect(order.indexOf('answered')).toBeLessThan(order.indexOf('transport closed'));
    expect(order.indexOf('trigger resolved')).toBeLessThan(order.indexOf('application closed'));
    expect(order).toHaveLength(4);
    await expect(service.trigger('my-channel', 'my-event', {})).rejects.toMatchObject({ code: 'ECLOSED' });
  });
});

describe('PusherModule.forRootAsync', () => {
  it("useFactory with @nestjs/config's ConfigService", async () => {
    const moduleRef = await compile([
      PusherModule.forRootAsync({
        imports: [
          ConfigModule.forRoot({
            ignoreEnvFile: true,
            load: [() => ({ PUSHER_APP_ID: '555', PUSHER_KEY: 'from-config', PUSHER_SECRET: 'config-secret' })],
          }),
        ],
        inject: [ConfigService],
        useFactory: (config: ConfigService): PusherModuleOptions => ({
          appId: config.getOrThrow<string>('PUSHER_APP_ID'),
          key: config.getOrThrow<string>('PUSHER_KEY'),
          secret: config.getOrThrow<string>('PUSHER_SECRET'),
        }),
      }),
    ]);
    const service = moduleRef.get(PusherService);
    expect(service.appId).toBe('555');
    expect(service.key).toBe('from-config');
    // Signed with the secret from the config: checked independently.
    const signed = service.authorizeChannel('1.2', 'private-a');
    const { createHmac } = await import('node:crypto');
    expect(signed.auth).toBe(
      `from-config:${createHmac('sha256', 'config-secret').update('1.2:private-a').digest('hex')}`,
    );
  });

  it('useFactory may be async', async () => {
    const moduleRef = await compile([PusherModule.forRootAsync({ useFactory: async () => ({ ...APP, appId: '8' }) })]);
    expect(moduleRef.get(PusherService).appId).toBe('8');
  });

  it('useClass', async () => {
    @Injectable()
    class PusherConfig {
      create(): PusherModuleOptions {
        return { ...APP, appId: '909' };
      }
    }
    const moduleRef = await compile([PusherModule.forRootAsync({ useClass: PusherConfig })]);
    expect(moduleRef.get(PusherService).appId).toBe('909');
  });

  it('useExisting', async () => {
    @Injectable()
    class SharedPusherConfig {
      create(): PusherModuleOptions {
        return { ...APP, appId: '303' };
      }
    }
    @Module({ providers: [SharedPusherConfig], exports: [SharedPusherConfig] })
    class SharedConfigModule {}
    const moduleRef = await compile([
      PusherModule.forRootAsync({ imports: [SharedConfigModule], useExisting: SharedPusherConfig }),
    ]);
    expect(moduleRef.get(PusherService).appId).toBe('303');
  });

  it('takes the extras too: the authorizer is built with dependencies from the async `imports`', async () => {
    const moduleRef = await compile([
      PusherModule.forRootAsync({
        imports: [UsersModule],
        inject: [UsersService],
        useFactory: () => APP,
        authorizer: UsersAuthorizer,
      }),
    ]);
    const authorizer = moduleRef.get<UsersAuthorizer>(PUSHER_AUTHORIZER);
    expect(authorizer).toBeInstanceOf(UsersAuthorizer);
    expect(authorizer.users).toBeInstanceOf(UsersService);
    expect(moduleRef.get(PUSHER_MODULE_OPTIONS)).toBe(APP);
  });
});

describe('isGlobal', () => {
  @Injectable()
  class Notifier {
    constructor(readonly pusher: PusherService) {}
  }
  @Module({ providers: [Notifier] })
  class FeatureModule {}

  it('makes PusherService injectable in a module that does not import PusherModule', async () => {
    const moduleRef = await compile([PusherModule.forRoot({ ...APP, isGlobal: true }), FeatureModule]);
    expect(moduleRef.get(Notifier).pusher).toBe(moduleRef.get(PusherService));
  });

  it('works for forRootAsync as well', async () => {
    const moduleRef = await compile([
      PusherModule.forRootAsync({ useFactory: () => APP, isGlobal: true }),
      FeatureModule,
    ]);
    expect(moduleRef.get(Notifier).pusher).toBeInstanceOf(PusherService);
  });

  it('is off by default: another module cannot inject PusherService without importing it', async () => {
    const logs = captureLogs();
    try {
      await expect(
        Test.createTestingModule({ imports: [PusherModule.forRoot(APP), FeatureModule] }).compile(),
      ).rejects.toThrow(/PusherService/);
    } finally {
      logs.restore();
    }
  });
});
