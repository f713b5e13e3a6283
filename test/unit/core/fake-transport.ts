import type {
  HttpTransport,
  HttpTransportRequest,
  HttpTransportResponse,
} from '../../../lib/core/transport/http-transport.js';

/** One request as the fake network saw it. */
export interface RecordedRequest {
  method: string;
  origin: string;
  /** Path without the query string. */
  pathname: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** The raw query string (after `?`). */
  rawQuery: string;
  headers: Record<string, string>;
  body: string | undefined;
}

type Responder = (request: RecordedRequest) => HttpTransportResponse | Promise<HttpTransportResponse>;

/** The network boundary, faked: records every request and answers from `respond` (default 200 `{}`). */
export class FakeTransport implements HttpTransport {
  readonly requests: RecordedRequest[] = [];
  closed = 0;

  constructor(public respond: Responder = () => ({ status: 200, headers: {}, body: '{}' })) {}

  async request(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    const at = request.path.indexOf('?');
    const rawQuery = at === -1 ? '' : request.path.slice(at + 1);
    const recorded: RecordedRequest = {
      method: request.method,
      origin: request.origin,
      pathname: at === -1 ? request.path : request.path.slice(0, at),
      query: Object.fromEntries(new URLSearchParams(rawQuery)),
      rawQuery,
      headers: { ...request.headers },
      body: request.body,
    };
    this.requests.push(recorded);
    return this.respond(recorded);
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

export const json = (status: number, value: unknown): HttpTransportResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});
