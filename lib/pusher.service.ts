import { ConsoleLogger, Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Pusher } from './core/pusher.js';
import type { PusherLogger } from './core/pusher.options.js';
import type { PusherModuleOptions } from './interfaces/pusher-module-options.interface.js';
import { PUSHER_MODULE_OPTIONS } from './pusher.constants.js';

/**
 * Nest's `Logger` (context `Pusher`) as the core's logger. `debug` is offered only while Nest's debug level is on,
 * so that with it off no call builds a debug line it would throw away.
 */
class NestPusherLogger implements PusherLogger {
  private readonly logger = new Logger('Pusher');
  private readonly writeDebug = (message: string): void => this.logger.debug(message);

  get debug(): ((message: string) => void) | undefined {
    return debugReachesLog(this.logger) ? this.writeDebug : undefined;
  }

  warn(message: string): void {
    this.logger.warn(message);
  }

  error(message: string): void {
    this.logger.error(message);
  }
}

/**
 * Whether `logger.debug()` would print. Asks the logger instance Nest writes through, because `Logger.isLevelEnabled`
 * differs between majors: Nest 11 answers false while no levels were ever set (no `logger` option), although its
 * default ConsoleLogger prints debug lines then; Nest 12 answers true.
 */
function debugReachesLog(logger: Logger): boolean {
  const instance = logger.localInstance as unknown;
  if (instance instanceof ConsoleLogger) return instance.isLevelEnabled('debug');
  // `logger: false` leaves no instance; a custom logger may have no debug method.
  if (typeof (instance as { debug?: unknown } | undefined)?.debug !== 'function') return false;
  return Logger.isLevelEnabled('debug');
}

/**
 * The Pusher Channels client as an injectable: every method of the core `Pusher` class (trigger, triggerBatch,
 * triggerInChunks, triggerBatchInChunks, sendToUser, terminateUserConnections, channelsInfo, channelInfo, usersInfo,
 * authorizeChannel, authenticateUser, validateWebhook, verifyWebhook, get, post), typed, built from the module
 * options. Without a `logger` option it logs through Nest's `Logger` (context `Pusher`). Its connections are released
 * when the application shuts down.
 *
 * @example
 * ```ts
 * constructor(private readonly pusher: PusherService) {}
 * await this.pusher.trigger('private-orders', 'order-shipped', { id: 42 });
 * ```
 */
@Injectable()
export class PusherService extends Pusher implements OnApplicationShutdown {
  constructor(@Inject(PUSHER_MODULE_OPTIONS) options: PusherModuleOptions) {
    // A copy: the caller's options object is never mutated.
    super({ ...options, logger: options.logger ?? new NestPusherLogger() });
  }

  /** Waits for the calls still in flight, then closes the HTTP connection pool. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
