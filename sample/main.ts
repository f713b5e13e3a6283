import 'reflect-metadata';
import { Logger, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import type { SampleConfig } from './sample.config.js';

export interface SampleServerOptions {
  /** Default `PORT` or 3000; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Nest log levels; default Nest's own. */
  logger?: LogLevel[] | false;
}

export interface SampleServer {
  app: INestApplication;
  /** e.g. `http://127.0.0.1:3000` */
  url: string;
  port: number;
}

/**
 * Creates and starts the sample app. `rawBody: true` is required: nest-pusher verifies webhook signatures over the
 * exact bytes soketi or Pusher sent, which a re-serialized JSON body would not match. The caller stops it with
 * `app.close()` (see start.ts), which also closes `PusherService`'s connections.
 */
export async function bootstrap(config: SampleConfig, options: SampleServerOptions = {}): Promise<SampleServer> {
  const app = await NestFactory.create(AppModule.forRoot(config), {
    rawBody: true,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const host = options.host ?? '127.0.0.1';
  await app.listen(options.port ?? Number(process.env.PORT ?? 3000), host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${host}:${address.port}`;
  Logger.log(`listening on ${url}`, 'Sample');
  return { app, url, port: address.port };
}
