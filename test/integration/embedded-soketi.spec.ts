/** The soketi launcher itself (sample/embedded-soketi.ts): ready when it says so, stopped for good, clear failures. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pusher } from 'nest-pusher/core';
import { startSoketi, type EmbeddedSoketi } from '../../sample/embedded-soketi.js';
import { connectClient, disconnectAllClients } from '../support/pusher-client.js';
import { randomApp } from '../support/soketi.js';
import { waitFor } from '../support/wait.js';

const started: EmbeddedSoketi[] = [];

afterAll(async () => {
  await Promise.all(started.map((soketi) => soketi.stop()));
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startSoketi', () => {
  it('starts on free ports on 127.0.0.1, answers HTTP, and stop() ends exactly that process (idempotently)', async () => {
    const first = await startSoketi(randomApp());
    started.push(first);
    const second = await startSoketi(randomApp());
    started.push(second);

    expect(first.host).toBe('127.0.0.1');
    expect(first.port).not.toBe(second.port);
    expect(first.httpUrl).toBe(`http://127.0.0.1:${first.port}`);
    const health = await fetch(`${first.httpUrl}/`);
    expect(await health.text()).toBe('OK');

    await Promise.all([first.stop(), first.stop()]);
    expect(isAlive(first.pid)).toBe(false);
    await first.stop();
    // The other instance is untouched.
    expect(isAlive(second.pid)).toBe(true);
    expect(await (await fetch(`${second.httpUrl}/`)).text()).toBe('OK');
    await second.stop();
    expect(isAlive(second.pid)).toBe(false);
  });

  it('rejects with a clear error when the requested port is already served by something else', async () => {
    const squatter: Server = createServer((_, res) => res.writeHead(404).end('not soketi'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as AddressInfo;
    try {
      await expect(startSoketi({ ...randomApp(), port })).rejects.toThrow(
        new RegExp(`nothing answers on http://127\\.0\\.0\\.1:${port}`),
      );
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('sends signed webhooks to webhookUrl', async () => {
    const bodies: Array<{ signature: string | undefined; body: string }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        bodies.push({ signature: req.headers['x-pusher-signature'] as string | undefined, body });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    const app = randomApp();
    const soketi = await startSoketi({
      ...app,
      webhookUrl: `http://127.0.0.1:${port}/hooks`,
      webhookEvents: ['channel_occupied'],
    });
    started.push(soketi);
    try {
      const pusher = new Pusher({ ...app, host: soketi.host, port: soketi.port, useTLS: false });
      const client = await connectClient({ host: soketi.host, port: soketi.port, key: app.key });
      await client.subscribe('launcher-check');
      const delivered = await waitFor(() => bodies.find((entry) => entry.body.includes('launcher-check')), {
        description: 'the channel_occupied webhook',
      });
      expect(
        pusher.validateWebhook({ key: app.key, signature: delivered.signature, body: delivered.body }),
      ).toMatchObject({
        events: [{ name: 'channel_occupied', channel: 'launcher-check' }],
      });
      await disconnectAllClients();
      await pusher.close();
    } finally {
      await soketi.stop();
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
