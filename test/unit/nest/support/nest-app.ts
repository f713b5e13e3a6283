/**
 * Shared support of the Nest-layer specs: the test app's credentials, independent signing (node:crypto, not our code),
 * a real HTTP server on port 0 (Express or Fastify), and log capture.
 */
import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { jest } from '@jest/globals';
import { type INestApplication, Logger, type ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

/** The secret is distinctive so a leak into a log line is easy to find. */
export const APP = {
  appId: '101',
  key: 'nest-test-key',
  secret: 'nest-test-secret-4d1b9-never-log',
} as const;

/** 32 bytes, base64: enables private-encrypted- channels. */
export const MASTER_KEY_BASE64 = Buffer.alloc(32, 7).toString('base64');

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

export function hmacHex(secret: string, data: string | Buffer): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** A webhook as Pusher would post it: exact body bytes and headers. */
export function signedWebhook(
  payload: unknown,
  options: { secret?: string; key?: string } = {},
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-pusher-key': options.key ?? APP.key,
      'x-pusher-signature': hmacHex(options.secret ?? APP.secret, body),
    },
  };
}

export interface RunningApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** Compiles the module, creates the app on the platform (rawBody on unless told), listens on 127.0.0.1:0. */
export async function startApp(
  platform: Platform,
  metadata: ModuleMetadata,
  options: { rawBody?: boolean } = {},
): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const appOptions = { rawBody: options.rawBody ?? true, logger: false as const };
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), appOptions)
      : moduleRef.createNestApplication(appOptions);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** As pusher-js posts: application/x-www-form-urlencoded. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

export interface CapturedLogs {
  /** Every message given to a Nest `Logger` instance, by level, with its arguments joined. */
  lines(level?: 'error' | 'warn' | 'log' | 'debug'): string[];
  restore(): void;
}

/** Records (and silences) what Nest `Logger` instances log. */
export function captureLogs(): CapturedLogs {
  const records: Array<{ level: string; text: string }> = [];
  const spies = (['error', 'warn', 'log', 'debug', 'verbose'] as const).map((level) =>
    jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
      records.push({ level, text: args.map((arg) => (arg instanceof Error ? arg.stack : String(arg))).join(' ') });
    }),
  );
  return {
    lines: (level) => records.filter((record) => level === undefined || record.level === level).map((r) => r.text),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}
