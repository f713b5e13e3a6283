/**
 * A small load balancer for tests (node:http only): each request goes to the next upstream in turn, counted per path
 * (so that a test's own requests alternate between upstreams even while webhooks arrive in between). An upstream that
 * refuses the connection (shut down) is taken out of the rotation and the request, which it never received, goes to
 * the next one, as a load balancer's health check would arrange. Every request is logged with the upstream that
 * answered it.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  name: string;
  port: number;
}

export interface ProxiedRequest {
  upstream: string;
  method: string;
  url: string;
  /** The request body as text. */
  body: string;
  status: number;
}

export interface RoundRobinProxy {
  readonly url: string;
  /** Every request answered so far, in the order the answers came. */
  readonly log: ProxiedRequest[];
  close(): Promise<void>;
}

/** Headers a proxy must not forward (hop-by-hop). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export async function startRoundRobinProxy(upstreams: readonly Upstream[]): Promise<RoundRobinProxy> {
  const live = [...upstreams];
  const nextByPath = new Map<string, number>();
  const log: ProxiedRequest[] = [];

  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: IncomingHttpHeaders = {};
      for (const [name, value] of Object.entries(incoming.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
      const attempt = (): void => {
        if (live.length === 0) {
          outgoing.writeHead(502, { 'content-type': 'text/plain' }).end('no upstream left');
          return;
        }
        const path = (incoming.url ?? '').split('?')[0]!;
        const turn = nextByPath.get(path) ?? 0;
        nextByPath.set(path, turn + 1);
        const upstream = live[turn % live.length]!;
        // A new connection per request (agent: false): a replica that shuts down refuses new connections at once.
        const forwarded = httpRequest(
          {
            host: '127.0.0.1',
            port: upstream.port,
            method: incoming.method,
            path: incoming.url,
            headers,
            agent: false,
          },
          (answer) => {
            log.push({
              upstream: upstream.name,
              method: incoming.method ?? '',
              url: incoming.url ?? '',
              body: body.toString('utf8'),
              status: answer.statusCode ?? 0,
            });
            const answerHeaders: IncomingHttpHeaders = {};
            for (const [name, value] of Object.entries(answer.headers))
              if (!HOP_BY_HOP.has(name)) answerHeaders[name] = value;
            outgoing.writeHead(answer.statusCode ?? 502, answerHeaders);
            answer.pipe(outgoing);
          },
        );
        forwarded.once('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNREFUSED') {
            // Never reached the upstream: safe to send elsewhere.
            // Several requests may find it gone at once: only the first takes it out.
            const index = live.indexOf(upstream);
            if (index !== -1) live.splice(index, 1);
            attempt();
          } else if (!outgoing.headersSent) {
            outgoing
              .writeHead(502, { 'content-type': 'text/plain' })
              .end(`upstream ${upstream.name}: ${error.code ?? error.message}`);
          } else {
            outgoing.destroy(error);
          }
        });
        forwarded.end(body);
      };
      attempt();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
