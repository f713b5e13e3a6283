/**
 * The runtime smoke test's payload: what one JavaScript runtime does with the built `nest-pusher/core`. Plain
 * JavaScript, so that Node, Deno, Bun and workerd (bundled with esbuild, as wrangler does) all run the same file.
 * It returns what it saw; runtimes.spec.ts asserts it.
 */
import { Pusher, PusherConfigurationError, UndiciTransport } from 'nest-pusher/core';

/** Pusher's documented signature examples (docs/pusher-protocol in the shared notes). */
const DOCS_APP = { appId: '3', key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8' };
const DOCS_WEBHOOK_APP = { appId: '3', key: '123456789', secret: 'tofu' };
const DOCS_WEBHOOK_BODY = '{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}';
const DOCS_WEBHOOK_SIGNATURE = 'c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5';

/**
 * @param {{ host: string, port: number, appId: string, key: string, secret: string, channel: string,
 *   privateChannel: string, socketId: string, runtime: string }} input
 */
export async function runSmoke(input) {
  const server = { host: input.host, port: input.port, useTLS: false };
  const pusher = new Pusher({ appId: input.appId, key: input.key, secret: input.secret, ...server });
  const docs = new Pusher({ ...DOCS_APP, ...server });
  // The documented webhook is from 2014: only a client with the freshness window off may accept it.
  const webhooks = new Pusher({ ...DOCS_WEBHOOK_APP, ...server, webhookMaxAgeMs: false });
  const webhooksFresh = new Pusher({ ...DOCS_WEBHOOK_APP, ...server });
  const result = { runtime: input.runtime, version: runtimeVersion() };
  try {
    result.trigger = await settle(() => pusher.trigger(input.channel, 'smoke', { runtime: input.runtime }));
    result.channelInfo = await settle(() => pusher.channelInfo(input.channel));
    result.privateAuth = pusher.authorizeChannel(input.socketId, input.privateChannel).auth;
    result.docsPrivateAuth = docs.authorizeChannel('1234.1234', 'private-foobar').auth;
    result.docsUserAuth = docs.authenticateUser('1234.1234', { id: '12345' }).auth;
    const signed = { key: DOCS_WEBHOOK_APP.key, signature: DOCS_WEBHOOK_SIGNATURE };
    result.webhookGood = webhooks.validateWebhook({ ...signed, body: DOCS_WEBHOOK_BODY });
    result.webhookGoodBytes = webhooks.validateWebhook({
      ...signed,
      body: new TextEncoder().encode(DOCS_WEBHOOK_BODY),
    });
    result.webhookTampered = webhooks.validateWebhook({
      ...signed,
      body: DOCS_WEBHOOK_BODY.replace('vacated', 'occupied'),
    });
    result.webhookStaleByDefault = webhooksFresh.validateWebhook({ ...signed, body: DOCS_WEBHOOK_BODY });
    result.undiciTransport = undiciVerdict();
  } finally {
    await Promise.all([pusher.close(), docs.close(), webhooks.close(), webhooksFresh.close()]);
  }
  return result;
}

/** Which runtime really ran this, as it names itself. */
function runtimeVersion() {
  if (globalThis.Deno !== undefined) return `deno ${globalThis.Deno.version.deno}`;
  if (globalThis.navigator?.userAgent === 'Cloudflare-Workers') return 'Cloudflare-Workers';
  if (globalThis.process?.versions?.bun !== undefined) return `bun ${globalThis.process.versions.bun}`;
  return `node ${globalThis.process?.version}`;
}

/** `{ value }` or `{ error }` with the error's class, code and message. */
async function settle(call) {
  try {
    return { value: await call() };
  } catch (error) {
    return { error: { name: error?.name, code: error?.code, message: String(error?.message ?? error) } };
  }
}

/** Whether an explicit UndiciTransport is accepted here ("usable") or refused with a configuration error. */
function undiciVerdict() {
  try {
    const transport = new UndiciTransport();
    void transport.close();
    return 'usable';
  } catch (error) {
    return error instanceof PusherConfigurationError ? `refused: ${error.message}` : `unexpected: ${String(error)}`;
  }
}
