/**
 * Smoke test of the benchmark machinery (no timing, no speed assertion): the fake Pusher API server that
 * `npm run bench` runs in a child process answers like the HTTP API, counts what it gets, and, when asked to verify,
 * accepts a correctly signed request and refuses a forged one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fork, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { resolve } from 'node:path';

const APP = { appId: '7', key: 'smoke-key', secret: 'smoke-secret' };

interface Stats {
  requests: number;
  events: number;
  rejected: number;
}

let server: ChildProcess;
let serverClosed: Promise<void>;
let port: number;

function ask<T>(message: object, replyType: string): Promise<T> {
  return new Promise((done) => {
    const onMessage = (reply: { type: string } & T): void => {
      if (reply.type !== replyType) return;
      server.off('message', onMessage);
      done(reply);
    };
    server.on('message', onMessage);
    server.send(message);
  });
}

function signedPath(body: string, secret = APP.secret): string {
  const path = `/apps/${APP.appId}/events`;
  const query =
    `auth_key=${APP.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0` +
    `&body_md5=${createHash('md5').update(body).digest('hex')}`;
  const signature = createHmac('sha256', secret).update(`POST\n${path}\n${query}`).digest('hex');
  return `${path}?${query}&auth_signature=${signature}`;
}

function post(path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json' }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

beforeAll(async () => {
  server = fork(resolve('bench/fake-pusher-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // 'close', not 'exit': only then are the IPC channel and the process handle released, so the jest worker can exit.
  serverClosed = new Promise((done) => server.once('close', () => done()));
  port = (await ask<{ port: number }>({ type: 'noop' }, 'listening')).port;
});

afterAll(async () => {
  if (server.exitCode === null && server.signalCode === null) server.send({ type: 'close' });
  await serverClosed;
});

describe('bench fake Pusher server', () => {
  const body = JSON.stringify({ name: 'e', channels: ['c'], data: '{"a":1}' });

  it('answers POST /apps/:id/events with 200 {} and counts it (verification off)', async () => {
    const res = await post(`/apps/${APP.appId}/events?anything=1`, body);
    expect(res).toEqual({ status: 200, text: '{}' });
    const { stats } = await ask<{ stats: Stats }>({ type: 'stats' }, 'stats');
    expect(stats.requests).toBeGreaterThanOrEqual(1);
  });

  it('when verifying, accepts a signed request and refuses a forged one with 401', async () => {
    await ask({ type: 'config', verify: true, ...APP }, 'ok');
    await ask({ type: 'reset' }, 'ok');
    expect(await post(signedPath(body), body)).toEqual({ status: 200, text: '{}' });
    const forged = await post(signedPath(body, 'wrong-secret'), body);
    expect(forged.status).toBe(401);
    const { stats } = await ask<{ stats: Stats }>({ type: 'stats' }, 'stats');
    expect(stats).toMatchObject({ requests: 2, events: 1, rejected: 1 });
  });
});
