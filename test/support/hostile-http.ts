/**
 * Raw HTTP for the hostile route specs: exact header lines (duplicates, any letter case, huge values, no
 * Content-Length) and exact body bytes, over a fresh connection to 127.0.0.1 each time. `fetch` cannot send two
 * lines of one header or omit Content-Length, hence node:http.
 */
import http from 'node:http';

export interface RawRequest {
  path: string;
  /** Header lines in order, names exactly as written on the wire. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** Send the body chunked (no Content-Length line is added). */
  chunked?: boolean;
}

export interface RawResponse {
  /** HTTP status; 0 when the server closed the connection without any answer. */
  status: number;
  body: string;
  /** The connection error, when there was one (the answer may still have arrived before it). */
  error?: string;
}

/**
 * POSTs `request` to `port`. Adds `Content-Length` unless the request is chunked or names one itself. A server that
 * answers early (413, 431) and closes while the body is still being written is normal: the answer is kept.
 */
export function rawPost(port: number, request: RawRequest): Promise<RawResponse> {
  return new Promise((resolve) => {
    // With raw header lines Node adds no Host line itself, and Node servers refuse HTTP/1.1 without one.
    const lines: string[] = ['Host', `127.0.0.1:${port}`];
    const hasLength = request.headers.some(([name]) => name.toLowerCase() === 'content-length');
    for (const [name, value] of request.headers) lines.push(name, value);
    if (!request.chunked && !hasLength) lines.push('Content-Length', String(request.body.length));
    if (request.chunked) lines.push('Transfer-Encoding', 'chunked');

    let settled = false;
    let response: { status: number; chunks: Buffer[] } | undefined;
    let requestError: Error | undefined;
    const finish = (error: Error | undefined = requestError) => {
      if (settled) return;
      settled = true;
      // The answer is complete: stop sending whatever is left of a body the server refused early (413), or the
      // connection, and the server's handle with it, stays open for as long as the server keeps not reading it.
      req.destroy();
      resolve({
        status: response?.status ?? 0,
        body: response ? Buffer.concat(response.chunks).toString('utf8') : '',
        ...(error ? { error: `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}` } : {}),
      });
    };

    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: request.path,
      headers: lines,
      agent: false,
    });
    req.on('response', (res) => {
      response = { status: res.statusCode ?? 0, chunks: [] };
      res.on('data', (chunk: Buffer) => response!.chunks.push(chunk));
      res.on('end', () => finish());
      res.on('error', (error) => finish(requestError ?? error));
      res.on('close', () => finish());
    });
    req.on('error', (error) => {
      // An early answer (413, 431) followed by a reset while the body was still being written: the response's own
      // 'end' or 'close' (which always follows once its socket is gone) reports it, error included.
      requestError = error;
    });
    // Without any answer the request's own 'close' (after its 'error', if any) ends it.
    req.on('close', () => {
      if (!response) finish();
    });
    req.setTimeout(20_000, () => req.destroy(new Error('client timeout')));
    if (request.chunked) {
      // Odd chunk boundaries, to exercise the parsers' reassembly.
      const body = request.body;
      const step = Math.max(1, Math.floor(body.length / 3));
      for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
      req.end();
    } else {
      req.end(request.body);
    }
  });
}

/** `JSON.parse` or `undefined`. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
