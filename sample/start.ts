/**
 * `npm start`: the sample app with a Pusher-protocol server of its own, so that it runs with no account.
 *
 * - No Pusher settings in the environment: starts an embedded soketi (webhooks pointed at this app, client events and
 *   user sign-in enabled) with throw-away credentials and encryption key, then the app.
 * - `PUSHER_URL` (`https://KEY:SECRET@api-eu.pusher.com/apps/APP_ID`) or `PUSHER_APP_ID` + `PUSHER_KEY` +
 *   `PUSHER_SECRET` + `PUSHER_CLUSTER`: talks to Pusher's service and starts no local server. Point the app's webhooks
 *   (dashboard → Webhooks) at `https://<public address>/pusher/webhooks` to see the activity feed there too, and turn
 *   on client events for "is typing".
 *
 * Other variables: `PORT` (default 3000), `HOST` (default 127.0.0.1), `PUSHER_ENCRYPTION_MASTER_KEY_BASE64`.
 */
import { randomBytes } from 'node:crypto';
import { bootstrap, type SampleServer } from './main.js';
import { startSoketi, type EmbeddedSoketi } from './embedded-soketi.js';
import type { SampleConfig } from './sample.config.js';

const env = process.env;
const port = Number(env.PORT ?? 3000);
const host = env.HOST ?? '127.0.0.1';

/** Settings for Pusher's service, or null when the environment names none. */
function serviceConfig(): SampleConfig | null {
  let appId = env.PUSHER_APP_ID;
  let key = env.PUSHER_KEY;
  let secret = env.PUSHER_SECRET;
  let cluster = env.PUSHER_CLUSTER;
  let apiHost: string | undefined;
  let apiPort: number | undefined;
  let useTLS = true;
  if (env.PUSHER_URL) {
    // http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID, as Heroku's add-on sets it.
    const url = new URL(env.PUSHER_URL);
    const match = /^\/apps\/([^/]+)\/?$/.exec(url.pathname);
    if (!url.username || !url.password || match === null) {
      throw new Error('PUSHER_URL must look like https://KEY:SECRET@api-CLUSTER.pusher.com/apps/APP_ID');
    }
    appId = decodeURIComponent(match[1] as string);
    key = decodeURIComponent(url.username);
    secret = decodeURIComponent(url.password);
    apiHost = url.hostname;
    apiPort = url.port ? Number(url.port) : undefined;
    useTLS = url.protocol === 'https:';
    cluster ??= /^api-([a-z0-9]+)\.pusher\.com$/.exec(url.hostname)?.[1];
  }
  if (!appId && !key && !secret && !cluster) return null;
  const required = { PUSHER_APP_ID: appId, PUSHER_KEY: key, PUSHER_SECRET: secret, PUSHER_CLUSTER: cluster };
  const missing = Object.entries(required)
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (missing.length > 0) throw new Error(`Set PUSHER_URL, or all of these (missing: ${missing.join(', ')}).`);
  const encryptionMasterKeyBase64 = env.PUSHER_ENCRYPTION_MASTER_KEY_BASE64 || undefined;
  return {
    pusher: {
      appId: appId as string,
      key: key as string,
      secret: secret as string,
      cluster: cluster as string,
      ...(apiHost === undefined ? {} : { host: apiHost }),
      ...(apiPort === undefined ? {} : { port: apiPort }),
      useTLS,
      ...(encryptionMasterKeyBase64 === undefined ? {} : { encryptionMasterKeyBase64 }),
    },
    client: {
      key: key as string,
      cluster: cluster as string,
      forceTLS: true,
      encryptedRoom: encryptionMasterKeyBase64 !== undefined,
    },
  };
}

async function main(): Promise<void> {
  let soketi: EmbeddedSoketi | undefined;
  let server: SampleServer | undefined;
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      await server?.app.close().catch((error: unknown) => console.error('closing the app:', error));
      await soketi?.stop().catch((error: unknown) => console.error('stopping soketi:', error));
      if (code === 0) console.log('Stopped.');
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  try {
    let config = serviceConfig();
    if (config === null) {
      // Throw-away credentials: this soketi lives as long as this process.
      const credentials = {
        appId: 'nest-pusher-sample',
        key: `sample-${randomBytes(8).toString('hex')}`,
        secret: randomBytes(24).toString('hex'),
      };
      const webhookHost = host === '0.0.0.0' ? '127.0.0.1' : host;
      soketi = await startSoketi({
        ...credentials,
        webhookUrl: `http://${webhookHost}:${port}/pusher/webhooks`,
        host: '127.0.0.1',
      });
      const encryptionMasterKeyBase64 = env.PUSHER_ENCRYPTION_MASTER_KEY_BASE64 || randomBytes(32).toString('base64');
      config = {
        pusher: {
          ...credentials,
          host: soketi.host,
          port: soketi.port,
          useTLS: false,
          encryptionMasterKeyBase64,
        },
        client: {
          key: credentials.key,
          cluster: 'mt1', // pusher-js requires one; wsHost wins
          wsHost: soketi.host,
          wsPort: soketi.port,
          forceTLS: false,
          encryptedRoom: true,
        },
      };
      console.log(`Embedded soketi (pid ${soketi.pid}) on ${soketi.httpUrl}, webhooks to this app.`);
    } else {
      console.log(`Using Pusher's service, cluster ${config.pusher.cluster ?? '(from host)'}; no local server.`);
    }
    server = await bootstrap(config, { port, host });
    console.log(`\n  nest-pusher sample: open ${server.url}/ in two browser windows. Ctrl-C stops everything.\n`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stop(1);
  }
}

void main();
