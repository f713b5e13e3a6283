import crypto from 'node:crypto';
import { runSync, median } from '/work/main/bench/harness.js';
const secret = 'bench-secret-7ad3773142a6692b';
const keyObj = crypto.createSecretKey(Buffer.from(secret));
const keyBuf = Buffer.from(secret);
const msg = '123456.7890123:presence-bench-room:{"user_id":"user-42","user_info":{"name":"Ada Lovelace","role":"admin"}}';
const body = 'x'.repeat(200);
// HMAC via precomputed inner/outer hash states + copy()
const block = Buffer.alloc(64); keyBuf.copy(block);
const ipad = Buffer.from(block.map(b => b ^ 0x36)), opad = Buffer.from(block.map(b => b ^ 0x5c));
const inner0 = crypto.createHash('sha256').update(ipad), outer0 = crypto.createHash('sha256').update(opad);
const sigHex = crypto.createHmac('sha256', secret).update(msg).digest('hex');
const ops = {
  'hmac string key': () => crypto.createHmac('sha256', secret).update(msg).digest('hex'),
  'hmac buffer key': () => crypto.createHmac('sha256', keyBuf).update(msg).digest('hex'),
  'hmac KeyObject': () => crypto.createHmac('sha256', keyObj).update(msg).digest('hex'),
  'hmac via copy()': () => outer0.copy().update(inner0.copy().update(msg).digest()).digest('hex'),
  'md5 createHash': () => crypto.createHash('md5').update(body).digest('hex'),
  'md5 crypto.hash': () => crypto.hash('md5', body, 'hex'),
  'cmp toLower+Buffer+tse': () => { const a = Buffer.from(sigHex.toLowerCase(), 'latin1'), b = Buffer.from(sigHex.toLowerCase(), 'latin1'); return crypto.timingSafeEqual(a, b); },
  'cmp hex digest buf tse': () => { const d = crypto.createHmac('sha256', secret).update(msg).digest(); const g = Buffer.from(sigHex, 'hex'); return g.length === 32 && crypto.timingSafeEqual(d, g); },
  'hmac hex only (ref)': () => crypto.createHmac('sha256', secret).update(msg).digest('hex'),
};
const res = {};
for (const [k, f] of Object.entries(ops)) runSync(f, 50000);
for (let r = 0; r < 5; r++) for (const [k, f] of Object.entries(ops)) (res[k] ??= []).push(runSync(f, 100000));
for (const [k, rs] of Object.entries(res)) console.log(k.padEnd(26), median(rs.map(r=>r.cpuMicrosPerCall)).toFixed(2), 'µs cpu');
