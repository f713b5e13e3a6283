import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import * as core from 'nest-pusher/core';

const coreDir = fileURLToPath(new URL('../../../lib/core/', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('nest-pusher/core', () => {
  it('exports exactly the public runtime API', () => {
    expect(Object.keys(core).sort()).toEqual(
      [
        'DEFAULT_WEBHOOK_CLOCK_SKEW_MS',
        'DEFAULT_WEBHOOK_MAX_AGE_MS',
        'FetchTransport',
        'HttpTransportError',
        'MemoryWebhookDeliveryStore',
        'RedisWebhookDeliveryStore',
        'SIGNED_IN_USER',
        'PUSHER_WEBHOOK_EVENT_NAMES',
        'Pusher',
        'PusherChunkedTriggerError',
        'PusherConfigurationError',
        'PusherError',
        'PusherRequestError',
        'PusherValidationError',
        'PusherWebhookError',
        'TimeoutReason',
        'UndiciTransport',
        'parsePusherUrl',
        'verifyWebhook',
        'webhookDeliveryId',
        'webhookReplayWindowMs',
      ].sort(),
    );
  });

  it('has no @nestjs import anywhere under lib/core', () => {
    const offenders = tsFiles(coreDir).filter((file) =>
      /from\s+['"]@nestjs\/|import\(\s*['"]@nestjs\/|require\(\s*['"]@nestjs\//.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
    expect(tsFiles(coreDir).length).toBeGreaterThan(10);
  });
});
