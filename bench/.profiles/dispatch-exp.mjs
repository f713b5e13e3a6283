import { Agent } from 'undici';
import { startFakePusherServer, stopAllChildren } from '/work/main/bench/processes.js';
import { runConcurrent, median } from '/work/main/bench/harness.js';
import { PAYLOADS, triggerBody, signedPath } from '/work/main/bench/fixtures.js';
const s = await startFakePusherServer();
const origin = `http://127.0.0.1:${s.port}`;
const agent = new Agent({ connections: 128, pipelining: 1 });
const body = triggerBody(PAYLOADS['200B']);
const path = signedPath('/events', body);
const headers = { 'content-type': 'application/json', 'x-pusher-library': 'x' };
// One sweeper for all deadlines instead of one AbortController + timer per call.
const live = new Set();
setInterval(() => { const now = Date.now(); for (const h of live) if (h.deadline <= now) h.abort?.(new Error('timeout')); }, 50).unref();
function dispatchRequest() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const h = {
      deadline: Date.now() + 10000, abort: undefined, status: 0,
      onConnect(abort) { this.abort = abort; },
      onHeaders(status) { this.status = status; return true; },
      onData(chunk) { chunks.push(chunk); return true; },
      onComplete() { live.delete(h); resolve({ status: h.status, body: chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString() }); },
      onError(err) { live.delete(h); reject(err); },
    };
    live.add(h);
    agent.dispatch({ origin, method: 'POST', path, headers, body }, h);
  });
}
const variants = {
  'agent.request plain': async () => { const r = await agent.request({ origin, method: 'POST', path, headers, body }); await r.body.text(); },
  'agent.request +signal': async () => {
    const c = new AbortController(); const t = setTimeout(() => c.abort(), 10000);
    try { const r = await agent.request({ origin, method: 'POST', path, headers, body, signal: c.signal }); await r.body.text(); } finally { clearTimeout(t); }
  },
  'agent.dispatch +sweeper': async () => { const r = await dispatchRequest(); if (r.status !== 200) throw new Error(r.status); },
};
const res = {};
for (const [k, f] of Object.entries(variants)) await runConcurrent(f, 10000, 64);
for (let round = 0; round < 5; round++) for (const [k, f] of Object.entries(variants)) { const r = await runConcurrent(f, 20000, 64); (res[k] ??= []).push(r); }
for (const [k, rs] of Object.entries(res)) console.log(k.padEnd(26), Math.round(median(rs.map(r=>r.opsPerSec))), median(rs.map(r=>r.cpuMicrosPerCall)).toFixed(1));
await agent.close(); await s.stop(); stopAllChildren();
