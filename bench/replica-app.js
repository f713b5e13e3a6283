// One replica of a Nest application (Express) in its own process, for bench/replicas.js: POST /orders triggers one
// event through PusherService (to the fake Pusher API on FAKE_PUSHER_PORT) and answers once the API accepted it.
// Decorators are applied as functions so that this file is plain JavaScript.
import 'reflect-metadata';
import { Controller, HttpCode, Inject, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { APP, CHANNEL, EVENT, PAYLOADS } from './fixtures.js';

const { PusherModule, PusherService } = await import('nest-pusher');

const data = PAYLOADS['200B'];

class OrdersController {
  constructor(pusher) {
    this.pusher = pusher;
  }

  async create() {
    await this.pusher.trigger(CHANNEL, EVENT, data);
  }
}
Controller('orders')(OrdersController);
Inject(PusherService)(OrdersController, undefined, 0);
{
  const descriptor = Object.getOwnPropertyDescriptor(OrdersController.prototype, 'create');
  Post()(OrdersController.prototype, 'create', descriptor);
  HttpCode(200)(OrdersController.prototype, 'create', descriptor);
  Object.defineProperty(OrdersController.prototype, 'create', descriptor);
}

class AppModule {}
Module({
  imports: [
    PusherModule.forRoot({
      ...APP,
      host: '127.0.0.1',
      port: Number(process.env.FAKE_PUSHER_PORT),
      useTLS: false,
      authController: false,
      webhookController: false,
    }),
  ],
  controllers: [OrdersController],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: ['error'] });
await app.listen(0, '127.0.0.1');
// Keep-alive must outlive the pauses between cells.
app.getHttpServer().keepAliveTimeout = 65_000;
app.getHttpServer().headersTimeout = 66_000;

process.on('message', async (msg) => {
  if (msg?.type === 'close') {
    await app.close().catch(() => {});
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'listening', port: app.getHttpServer().address().port });
