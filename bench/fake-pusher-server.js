// A stand-in for the Pusher Channels HTTP API, run in its own process (child_process.fork) so that the client CPU
// measured by the benchmark is the client's alone.
//
//   POST /apps/:id/events        -> 200 {}
//   POST /apps/:id/batch_events  -> 200 {}
//   anything else                -> 404
//
// Signature checking is off by default (throughput runs must measure the client, not this server) and can be
// switched on over IPC: then auth_key, auth_timestamp (±600 s), auth_version, body_md5 and auth_signature are checked
// exactly as the protocol page describes, batches are limited to 10 items, and a failure answers 401/400 as Pusher
// does (plain text). The server counts requests, events and rejections; the parent asks for them over IPC.
//
// IPC protocol (parent -> child): { type: 'config', verify, appId, key, secret } | { type: 'stats' } |
// { type: 'reset' } | { type: 'close' }. Child -> parent: { type: 'listening', port } | { type: 'stats', stats } |
// { type: 'ok' } (after config/reset).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const config = { verify: false, appId: '', key: '', secret: '' };
const stats = { requests: 0, events: 0, batchRequests: 0, eventRequests: 0, rejected: 0, notFound: 0, lastError: '' };

// Pre-built response: the hot path does no allocation beyond what node:http itself needs.
const OK_HEADERS = ['Content-Type', 'application/json', 'Content-Length', '2'];
const OK_BODY = '{}';

function reply(res, status, text) {
  res.writeHead(status, ['Content-Type', 'text/plain', 'Content-Length', String(Buffer.byteLength(text))]);
  res.end(text);
}

/** Returns an error text, or '' when the request is authentic and well formed. */
function check(method, url, body, isBatch) {
  const q = url.indexOf('?');
  if (q < 0) return 'Missing auth query';
  const path = url.slice(0, q);
  const params = new URLSearchParams(url.slice(q + 1));
  if (path !== `/apps/${config.appId}/${isBatch ? 'batch_events' : 'events'}`) return `Unknown app in ${path}`;
  const signature = params.get('auth_signature');
  if (!signature) return 'Missing auth_signature';
  if (params.get('auth_key') !== config.key) return 'Unknown auth_key';
  if (params.get('auth_version') !== '1.0') return 'auth_version must be 1.0';
  const ts = Number(params.get('auth_timestamp'));
  if (!Number.isInteger(ts) || Math.abs(Date.now() / 1000 - ts) >= 600) return 'Timestamp expired';
  const md5 = createHash('md5').update(body).digest('hex');
  if (params.get('body_md5') !== md5) return 'body_md5 does not match';
  const signed = [...params.entries()]
    .filter(([k]) => k !== 'auth_signature')
    .map(([k, v]) => [k.toLowerCase(), v])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const expected = createHmac('sha256', config.secret).update(`${method}\n${path}\n${signed}`).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'Invalid signature';
  let json;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'Body is not JSON';
  }
  if (isBatch) {
    if (!Array.isArray(json.batch) || json.batch.length === 0) return 'Missing batch';
    if (json.batch.length > 10) return `Batch too large (${json.batch.length} > 10)`;
    for (const item of json.batch) {
      if (typeof item.channel !== 'string' || typeof item.name !== 'string' || typeof item.data !== 'string') {
        return 'Batch item needs channel, name and data (string)';
      }
    }
    stats.events += json.batch.length;
  } else {
    const channels = json.channels ?? (json.channel ? [json.channel] : null);
    if (!Array.isArray(channels) || typeof json.name !== 'string' || typeof json.data !== 'string') {
      return 'Event needs name, data (string) and channels';
    }
    stats.events += 1;
  }
  return '';
}

const server = createServer((req, res) => {
  stats.requests++;
  const url = req.url ?? '';
  const isBatch = url.includes('/batch_events');
  const isEvents = !isBatch && url.includes('/events');
  if (req.method !== 'POST' || (!isBatch && !isEvents) || !url.startsWith('/apps/')) {
    stats.notFound++;
    req.resume();
    req.on('end', () => reply(res, 404, 'Not found'));
    return;
  }
  if (isBatch) stats.batchRequests++;
  else stats.eventRequests++;
  if (!config.verify) {
    // Drain the body without keeping it, then answer.
    req.on('end', () => {
      res.writeHead(200, OK_HEADERS);
      res.end(OK_BODY);
    });
    req.resume();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const error = check(req.method, url, Buffer.concat(chunks), isBatch);
    if (error) {
      stats.rejected++;
      stats.lastError = error;
      reply(res, error.startsWith('Batch too large') || error.startsWith('Body') ? 400 : 401, error);
      return;
    }
    res.writeHead(200, OK_HEADERS);
    res.end(OK_BODY);
  });
});
// Keep-alive: idle connections survive the pauses between benchmark cells.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

process.on('message', (msg) => {
  switch (msg?.type) {
    case 'config':
      Object.assign(config, {
        verify: Boolean(msg.verify),
        appId: String(msg.appId ?? config.appId),
        key: String(msg.key ?? config.key),
        secret: String(msg.secret ?? config.secret),
      });
      process.send({ type: 'ok' });
      break;
    case 'stats':
      process.send({ type: 'stats', stats: { ...stats } });
      break;
    case 'reset':
      for (const k of Object.keys(stats)) stats[k] = typeof stats[k] === 'number' ? 0 : '';
      process.send({ type: 'ok' });
      break;
    case 'close':
      server.closeAllConnections?.();
      server.close(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
      break;
  }
});
// If the parent dies, do not linger.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'listening', port: server.address().port });
});
