import { Pusher } from 'nest-pusher/core';
import { APP, SOCKET_ID, PRIVATE_CHANNEL, PRESENCE_CHANNEL, PRESENCE_DATA, USER_DATA, WEBHOOK_EVENTS, signedWebhook } from '/work/main/bench/fixtures.js';
const ours = new Pusher({ ...APP, host: '127.0.0.1', port: 1, useTLS: false });
const wh = signedWebhook(WEBHOOK_EVENTS);
const op = process.argv[2];
const f = { private: () => ours.authorizeChannel(SOCKET_ID, PRIVATE_CHANNEL), presence: () => ours.authorizeChannel(SOCKET_ID, PRESENCE_CHANNEL, PRESENCE_DATA), user: () => ours.authenticateUser(SOCKET_ID, USER_DATA), webhook: () => ours.validateWebhook({ key: wh.key, signature: wh.signature, body: wh.body }) }[op];
let s = 0; for (let i = 0; i < 1500000; i++) if (f()) s++;
console.log(s);
