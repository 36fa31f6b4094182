// Live-progress fan-out: N socket.io clients (default 1000) join one
// session on a running `garmax serve`, the session runs, and every client
// records when each status-update arrived. Reported: how many clients got
// every update, and per update the spread from its first to its p50/p99/last
// receipt (the fan-out latency of one process's socket.io layer). Updates
// already stored when a client joined are replayed to it at once; only
// updates first sent after every client had joined are measured.
//   node web/bench/fanout.mjs URL API_KEY AVATAR_ID GARMENT_ID [N]
// (scripts/bench-serve runs it with GARMAX_BENCH_FANOUT=N; it lives in web/ so
// socket.io-client resolves from web/node_modules.)
import { io } from 'socket.io-client';

const [url, key, avatarId, garmentId, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 1000);
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const post = async (path, body) => (await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) })).json();

const { sessionId } = await post('/api/tryon/sessions', { avatarId, garmentId, quality: 'sd' });
const arrivals = new Map(); // seq -> [ms]
let done = 0;
const sockets = [];
await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
  const s = io(`${url}/tryon`, { auth: { token: key }, transports: ['websocket'], forceNew: true });
  sockets.push(s);
  s.on('connect', () => { s.emit('join-session', { sessionId }); resolve(); });
  s.on('connect_error', reject);
  s.on('status-update', (u) => {
    const t = performance.now();
    if (!arrivals.has(u.seq)) arrivals.set(u.seq, []);
    arrivals.get(u.seq).push(t);
    if (u.status === 'preview_ready') done += 1;
  });
})));
const start = performance.now();
while (done < n && performance.now() - start < 300_000) await new Promise((r) => setTimeout(r, 100));
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log(`${n} clients joined session ${sessionId}; ${done} saw preview_ready`);
for (const [seq, ts] of [...arrivals.entries()].sort((a, b) => a[0] - b[0])) {
  ts.sort((a, b) => a - b);
  if (ts[0] < start) {
    console.log(`seq ${String(seq).padStart(2)}: ${String(ts.length).padStart(5)} receipts (replayed on join, not measured)`);
    continue;
  }
  const spread = ts.map((t) => t - ts[0]);
  console.log(`seq ${String(seq).padStart(2)}: ${String(ts.length).padStart(5)} receipts, fan-out p50 ${pct(spread, 0.5).toFixed(1)} ms, p99 ${pct(spread, 0.99).toFixed(1)} ms, max ${spread.at(-1).toFixed(1)} ms`);
}
for (const s of sockets) s.close();
process.exit(done === n ? 0 : 1);
