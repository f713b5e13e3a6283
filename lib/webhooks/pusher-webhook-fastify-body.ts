import { BadRequestException, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** The media type Pusher's JSON webhooks are parsed under on Fastify (see {@link PusherWebhookFastifyBody}). */
export const WEBHOOK_MEDIA_TYPE = 'application/vnd.nest-pusher.webhook+json';

/** The parts of a Fastify instance used here (no import of fastify: it is the application's optional choice). */
interface FastifyLike {
  initialConfig: { bodyLimit?: number };
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void): unknown;
  addContentTypeParser(
    type: string,
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (request: FastifyRequestLike, body: Buffer, done: (error: Error | null, parsed?: unknown) => void) => void,
  ): unknown;
}
interface FastifyRequestLike {
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Buffer;
}

const instrumented = new WeakSet<object>();

/**
 * Makes Fastify hand a signed webhook to the guard the way Express does. Fastify's JSON parser answers 400 to any
 * body with a `__proto__` key (`onProtoPoisoning: 'error'`), before any guard runs, and `client_event` data is
 * whatever a subscriber sent: one such event would make a whole batch fail for ever. Requests that carry
 * `X-Pusher-Signature` and a JSON body are parsed by a parser of their own instead (plain `JSON.parse`, which makes
 * `__proto__` an ordinary own key, as on Express; the guard verifies the raw bytes anyway). Other requests are not
 * touched. No-op on other platforms.
 */
@Injectable()
export class PusherWebhookFastifyBody implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter === undefined || adapter === null || adapter.getType() !== 'fastify') return;
    const instance = adapter.getInstance<FastifyLike>();
    if (instrumented.has(instance)) return;
    instrumented.add(instance);

    instance.addHook('onRequest', (request, _reply, done) => {
      const contentType = request.headers['content-type'];
      if (request.headers['x-pusher-signature'] !== undefined && typeof contentType === 'string' && isJson(contentType)) {
        request.headers['content-type'] = WEBHOOK_MEDIA_TYPE;
      }
      done();
    });
    const { bodyLimit } = instance.initialConfig;
    instance.addContentTypeParser(WEBHOOK_MEDIA_TYPE, { parseAs: 'buffer', ...(bodyLimit ? { bodyLimit } : {}) }, (request, body, done) => {
      request.rawBody = body;
      try {
        done(null, JSON.parse(body.toString('utf8')));
      } catch {
        // What Express's body parser answers to a JSON body that does not parse.
        done(new BadRequestException('Webhook body is not valid JSON'));
      }
    });
  }
}

function isJson(contentType: string): boolean {
  return contentType.split(';')[0]!.trim().toLowerCase() === 'application/json';
}
