import { Module, type DynamicModule } from '@nestjs/common';
import type { PusherModuleOptions, PusherModuleSyncOptions } from '../interfaces/pusher-module-options.interface.js';
// Internal token, not the package's API: the kit builds PusherService from the app's own options.
import { PUSHER_MODULE_OPTIONS } from '../pusher.constants.js';
import { PusherModule } from '../pusher.module.js';
import { PusherService } from '../pusher.service.js';
import { PusherRecorder } from './pusher-recorder.js';

/** Credentials used when a test gives none: any app works, since nothing reaches a server. */
export const PUSHER_TESTING_CREDENTIALS = { appId: 'test-app', key: 'test-key', secret: 'test-secret' } as const;

/** `PusherModule.forRoot()` options and extras, every one optional (credentials default to {@link PUSHER_TESTING_CREDENTIALS}). */
export type PusherTestingModuleOptions = Partial<PusherModuleSyncOptions>;

/**
 * `PusherModule` with a {@link PusherRecorder} as its transport: the real `PusherService` (validation, signing,
 * encryption, batching), the built-in routes, the guard and `@OnPusherEvent()` dispatch, and nothing on the network.
 * The recorder is a provider: `moduleRef.get(PusherRecorder)`.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({
 *   imports: [PusherTestingModule.forRoot({ authorizer: AppAuthorizer })],
 *   providers: [OrdersService],
 * }).compile();
 * const recorder = moduleRef.get(PusherRecorder);
 */
@Module({})
export class PusherTestingModule {
  static forRoot(options: PusherTestingModuleOptions = {}): DynamicModule {
    const recorder = new PusherRecorder();
    const pusherOptions = { ...PUSHER_TESTING_CREDENTIALS, ...options, transport: recorder } as PusherModuleSyncOptions;
    recorder.configure(pusherOptions);
    return {
      module: PusherTestingModule,
      global: options.isGlobal ?? false,
      imports: [PusherModule.forRoot(pusherOptions)],
      providers: [{ provide: PusherRecorder, useValue: recorder }],
      exports: [PusherRecorder, PusherModule],
    };
  }
}

/** The part of `@nestjs/testing`'s `TestingModuleBuilder` the override needs (so the kit does not import it). */
export interface PusherOverridableBuilder<B> {
  overrideProvider(token: unknown): {
    useFactory(options: { factory: (...args: any[]) => unknown; inject?: unknown[] }): B;
  };
}

/**
 * For an app module that imports `PusherModule.forRoot()`/`forRootAsync()` itself: builds its `PusherService` from
 * the app's own options (async factory included) with `recorder` as the transport. Returns the builder.
 *
 * @example
 * const recorder = new PusherRecorder();
 * const moduleRef = await overridePusherTransport(Test.createTestingModule({ imports: [AppModule] }), recorder).compile();
 */
export function overridePusherTransport<B extends PusherOverridableBuilder<B>>(
  builder: B,
  recorder: PusherRecorder,
): B {
  return builder.overrideProvider(PusherService).useFactory({
    factory: (options: PusherModuleOptions) =>
      new PusherService({ ...options, transport: recorder.configure(options) }),
    inject: [PUSHER_MODULE_OPTIONS],
  });
}
