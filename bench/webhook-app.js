// A Nest application (Express, rawBody on) in its own process, serving ONE webhook route, chosen by env
// BENCH_WEBHOOK_ROUTE, so that each contender has its own process, JIT, heap and route table (the same for all: one
// route, the same module imports):
//   builtIn   POST /pusher/webhooks    nest-pusher's built-in route: guard (signature over the raw body) + dispatch
//                                      to the one @OnPusherEvent('channel_occupied') handler below
//   official  POST /official/webhooks  what an app writes by hand with the official client: pusher.webhook({headers,
//                                      rawBody}).isValid(), then a loop over getEvents() calling the same handler
//   floor     POST /floor/webhooks     a bare Nest route that only answers 200: the cost of Nest + Express themselves
// With env BENCH_BASELINE (a directory holding another build's dist/, see run.js --baseline), nest-pusher is that
// build. Decorators are applied as functions so that this file is plain JavaScript.
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Controller, HttpCode, Injectable, Module, Post, Req, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import OfficialPusher from 'pusher';
import { APP } from './fixtures.js';
import { mainThreadCpuMicros } from './harness.js';

const counters = { builtIn: 0, official: 0, floor: 0 };

function method(decorators, proto, name) {
  const descriptor = Object.getOwnPropertyDescriptor(proto, name);
  for (const d of decorators) d(proto, name, descriptor);
  Object.defineProperty(proto, name, descriptor);
}

/** The baseline build's entry: dist/esm/index.js since the dual build, dist/index.js before it. */
function baselineEntryUrl(directory) {
  const esm = join(directory, 'dist/esm/index.js');
  return pathToFileURL(existsSync(esm) ? esm : join(directory, 'dist/index.js')).href;
}
const nestPusher = process.env.BENCH_BASELINE ? baselineEntryUrl(process.env.BENCH_BASELINE) : 'nest-pusher';
const { PusherModule, OnPusherEvent } = await import(nestPusher);

class OccupiedHandler {
  onChannelOccupied(event) {
    if (event?.channel) counters.builtIn++;
  }
}
Injectable()(OccupiedHandler);
method([OnPusherEvent('channel_occupied')], OccupiedHandler.prototype, 'onChannelOccupied');

const officialPusher = new OfficialPusher({ appId: APP.appId, key: APP.key, secret: APP.secret });
class OfficialWebhookController {
  handle(req) {
    const webhook = officialPusher.webhook({ headers: req.headers, rawBody: req.rawBody.toString('utf8') });
    if (!webhook.isValid()) throw new UnauthorizedException('Invalid webhook');
    for (const event of webhook.getEvents()) {
      if (event.name === 'channel_occupied' && event.channel) counters.official++;
    }
  }
}
Controller('official')(OfficialWebhookController);
method([Post('webhooks'), HttpCode(200)], OfficialWebhookController.prototype, 'handle');
Req()(OfficialWebhookController.prototype, 'handle', 0);

class FloorController {
  handle() {
    counters.floor++;
  }
}
Controller('floor')(FloorController);
method([Post('webhooks'), HttpCode(200)], FloorController.prototype, 'handle');

const ROUTE = process.env.BENCH_WEBHOOK_ROUTE ?? 'builtIn';
const CONTROLLERS = { builtIn: [], official: [OfficialWebhookController], floor: [FloorController] };
if (!CONTROLLERS[ROUTE]) throw new Error(`BENCH_WEBHOOK_ROUTE must be one of ${Object.keys(CONTROLLERS).join(', ')}`);

class AppModule {}
Module({
  imports: [
    // In every app, so that they differ in the route only. The API host is never called in this process; the module
    // needs credentials to verify webhooks. Its built-in route exists in the builtIn app only.
    PusherModule.forRoot({
      ...APP,
      host: '127.0.0.1',
      port: 9,
      useTLS: false,
      authController: false,
      webhookController: ROUTE === 'builtIn',
    }),
  ],
  controllers: CONTROLLERS[ROUTE],
  providers: [OccupiedHandler],
})(AppModule);

const app = await NestFactory.create(AppModule, { rawBody: true, logger: ['error'] });
await app.listen(0, '127.0.0.1');
const port = app.getHttpServer().address().port;
// Keep-alive must outlive the pauses between cells.
app.getHttpServer().keepAliveTimeout = 65_000;
app.getHttpServer().headersTimeout = 66_000;

let profiler;
process.on('message', async (msg) => {
  if (msg?.type === 'stats') {
    const cpu = process.cpuUsage();
    process.send({
      type: 'stats',
      counters: { ...counters },
      cpuMicros: cpu.user + cpu.system,
      mainCpuMicros: mainThreadCpuMicros(),
    });
  }
  // bench/profile-webhook.js: the V8 CPU profile of this process while one route is loaded.
  if (msg?.type === 'profile-start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
    await profiler.post('Profiler.start');
    process.send({ type: 'profile-started' });
  }
  if (msg?.type === 'profile-stop') {
    const { profile } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    process.send({ type: 'profile', profile });
  }
  if (msg?.type === 'close') {
    await app.close().catch(() => {});
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'listening', port });
