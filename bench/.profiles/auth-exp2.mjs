import OfficialPusher from 'pusher';
const { Pusher } = await import(process.env.NP ?? 'nest-pusher/core');
import { runSync, median } from '/work/main/bench/harness.js';
import { APP, SOCKET_ID, PRIVATE_CHANNEL, PRESENCE_CHANNEL, PRESENCE_DATA, USER_DATA, WEBHOOK_EVENTS, signedWebhook } from '/work/main/bench/fixtures.js';
const ours2 = new (await import('/tmp/npx/dist/core/index.js')).Pusher({ ...APP, host: '127.0.0.1', port: 1, useTLS: false });
const ours = new Pusher({ ...APP, host: '127.0.0.1', port: 1, useTLS: false });
const off = new OfficialPusher({ appId: APP.appId, key: APP.key, secret: APP.secret });
const wh = signedWebhook(WEBHOOK_EVENTS);
const hdr = { 'x-pusher-key': wh.key, 'x-pusher-signature': wh.signature, 'content-type': 'application/json' };
const buf = Buffer.from(wh.body);
const ops = {
  'private ours': () => ours.authorizeChannel(SOCKET_ID, PRIVATE_CHANNEL),
  'private patched': () => ours2.authorizeChannel(SOCKET_ID, PRIVATE_CHANNEL),
  'private off': () => off.authorizeChannel(SOCKET_ID, PRIVATE_CHANNEL),
  'presence ours': () => ours.authorizeChannel(SOCKET_ID, PRESENCE_CHANNEL, PRESENCE_DATA),
  'presence patched': () => ours2.authorizeChannel(SOCKET_ID, PRESENCE_CHANNEL, PRESENCE_DATA),
  'presence off': () => off.authorizeChannel(SOCKET_ID, PRESENCE_CHANNEL, PRESENCE_DATA),
  'user ours': () => ours.authenticateUser(SOCKET_ID, USER_DATA),
  'user patched': () => ours2.authenticateUser(SOCKET_ID, USER_DATA),
  'user off': () => off.authenticateUser(SOCKET_ID, USER_DATA),
  'webhook ours': () => ours.validateWebhook({ key: wh.key, signature: wh.signature, body: wh.body }),
  'webhook ours(buf)': () => ours.validateWebhook({ key: wh.key, signature: wh.signature, body: buf }),
  'webhook patched': () => ours2.validateWebhook({ key: wh.key, signature: wh.signature, body: wh.body }),
  'webhook off': () => off.webhook({ headers: hdr, rawBody: wh.body }).isValid(),
};
const only = process.argv[2];
const res = {};
for (const [k, f] of Object.entries(ops)) runSync(f, 50000);
for (let r = 0; r < 7; r++) for (const [k, f] of Object.entries(ops)) { if (only && !k.startsWith(only)) continue; const x = runSync(f, 100000); (res[k] ??= []).push(x); }
for (const [k, rs] of Object.entries(res)) console.log(k.padEnd(20), Math.round(median(rs.map(r=>r.opsPerSec))), 'wall/s', Math.round(1e6/median(rs.map(r=>r.cpuMicrosPerCall))), 'cpu/s');
