import { Pool, Agent } from 'undici';
import { startFakePusherServer, stopAllChildren } from '/work/main/bench/processes.js';
import { runConcurrent, median } from '/work/main/bench/harness.js';
import { PAYLOADS, triggerBody, signedPath } from '/work/main/bench/fixtures.js';
const s = await startFakePusherServer();
const origin = `http://127.0.0.1:${s.port}`;
const pool = new Pool(origin, { connections: 128, pipelining: 1 });
const agent = new Agent({ connections: 128, pipelining: 1 });
const body = triggerBody(PAYLOADS['200B']);
const path = signedPath('/events', body);
const headers = { 'content-type': 'application/json', 'x-pusher-library': 'x' };
const variants = {
  'pool plain': async () => { const r = await pool.request({ method: 'POST', path, headers, body }); await r.body.text(); },
  'agent plain': async () => { const r = await agent.request({ origin, method: 'POST', path, headers, body }); await r.body.text(); },
  'agent +signal+timer': async () => {
    const c = new AbortController(); const t = setTimeout(() => c.abort(), 10000);
    try { const r = await agent.request({ origin, method: 'POST', path, headers, body, signal: c.signal }); await r.body.text(); } finally { clearTimeout(t); }
  },
  'agent +timer only': async () => {
    const t = setTimeout(() => {}, 10000);
    try { const r = await agent.request({ origin, method: 'POST', path, headers, body }); await r.body.text(); } finally { clearTimeout(t); }
  },
};
const res = {};
for (const [k, f] of Object.entries(variants)) await runConcurrent(f, 10000, 64);
for (let round = 0; round < 5; round++) for (const [k, f] of Object.entries(variants)) { const r = await runConcurrent(f, 20000, 64); (res[k] ??= []).push(r); }
for (const [k, rs] of Object.entries(res)) console.log(k.padEnd(22), Math.round(median(rs.map(r=>r.opsPerSec))), median(rs.map(r=>r.cpuMicrosPerCall)).toFixed(1));
await pool.close(); await agent.close(); await s.stop(); stopAllChildren();
