#!/usr/bin/env node
// A fake of `garmax serve` that follows docs/api/README.md, for developing
// and smoke-testing the studio while the real server is not available. It
// is NOT the product and not what the e2e test is for; the spec targets the
// real server. In memory; one user.
//
//   node e2e/mock/server.mjs [--port 8080] [--no-socket] [--fast]
//   MOCK_API_KEY (default "dev-key")
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { png, gradientPng } from './png.mjs';
import { bodyGlb } from './glb.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../../dist');
const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1] || process.env.PORT || 8080) || 8080;
const noSocket = args.includes('--no-socket') || process.env.MOCK_NO_SOCKET === '1';
const fast = args.includes('--fast');
const KEY = process.env.MOCK_API_KEY ?? 'dev-key';
const analysisFixture = JSON.parse(readFileSync(path.resolve(here, '../../src/lib/fixtures/garmax-analyze-tshirt.json'), 'utf8'));

const COST = { sd: 10, hd: 15, '4k': 25 };
const user = { id: randomUUID(), name: 'e2e', role: 'user', plan: 'free', credits: 100 };
const avatars = new Map();
const garments = new Map();
const sessions = new Map();
const events = new Map(); // sessionId → [payload]
const sseClients = new Map(); // sessionId → Set<res>
let io = null;

const now = () => new Date().toISOString();
const send = (res, status, body, headers = {}) => {
  const isBuf = Buffer.isBuffer(body);
  res.writeHead(status, { 'Content-Type': isBuf ? headers['Content-Type'] ?? 'application/octet-stream' : 'application/json', ...headers });
  res.end(isBuf ? body : body === undefined ? '' : JSON.stringify(body));
};
const err = (res, status, code, message) => send(res, status, { error: { code, message } });

function authed(req, url) {
  const h = req.headers.authorization ?? '';
  const token = h.startsWith('Bearer ') ? h.slice(7) : url.searchParams.get('token');
  return token === KEY;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The first file part of a multipart body with the given field name. */
function filePart(req, body, field) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
  if (!m) return null;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  let start = body.indexOf(boundary);
  while (start >= 0) {
    const next = body.indexOf(boundary, start + boundary.length);
    if (next < 0) break;
    const part = body.subarray(start + boundary.length + 2, next - 2);
    const headEnd = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, headEnd).toString();
    if (new RegExp(`name="${field}"`).test(head)) {
      return { data: part.subarray(headEnd + 4), type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? '' };
    }
    start = next;
  }
  return null;
}

const isImage = (buf) =>
  buf.length > 8 &&
  ((buf[0] === 0x89 && buf[1] === 0x50) || (buf[0] === 0xff && buf[1] === 0xd8) || buf.subarray(8, 12).toString() === 'WEBP');

const W = 180, H = 320;
const maps = {
  depth: () => gradientPng(W, H, (x, y) => { const v = Math.round(255 * (1 - Math.hypot(x - W / 2, y - H / 2) / 200)); return [v, v, v]; }),
  normal: () => gradientPng(W, H, (x, y) => [Math.round((x / W) * 255), Math.round((y / H) * 255), 200]),
  parts: () => gradientPng(W, H, (_x, y) => (y < H * 0.2 ? [230, 80, 80] : y < H * 0.55 ? [80, 160, 230] : [90, 200, 120])),
  segment: () => gradientPng(W, H, (x) => (Math.abs(x - W / 2) < 40 ? [255, 255, 255] : [0, 0, 0])),
  pose: () => gradientPng(W, H, (x, y) => (Math.abs(x - W / 2) < 3 || Math.abs(y - H * 0.3) < 3 ? [255, 200, 0] : [0, 0, 0])),
};
const FILES = ['photo', 'depth', 'normal', 'parts', 'segment', 'pose', 'body.glb', 'smpl.json'];

function publish(s, extra = {}) {
  const list = events.get(s.sessionId) ?? [];
  const payload = {
    sessionId: s.sessionId, status: s.status, stage: s.stage, progress: s.progress,
    message: s.message, estimatedTime: s.estimatedTime, seq: list.length + 1, ...extra,
  };
  if (s.previewUrl) payload.previewUrl = s.previewUrl;
  list.push(payload);
  events.set(s.sessionId, list);
  io?.of('/tryon').to(s.sessionId).emit('status-update', payload);
  for (const res of sseClients.get(s.sessionId) ?? []) res.write(`id: ${payload.seq}\nevent: status-update\ndata: ${JSON.stringify(payload)}\n\n`);
}

const STAGES = [
  ['queued', 0, 'Waiting for a worker'],
  ['smpl-start', 10, 'Starting 3D pose analysis'],
  ['smpl-pose-complete', 25, 'Pose found'],
  ['smpl-mesh-complete', 40, 'Body mesh fitted'],
  ['smpl-guidance-complete', 50, 'Guidance maps drawn'],
  ['ai-queued', 60, 'Render queued'],
  ['ai-processing', 75, 'Rendering the try-on'],
  ['ai-complete', 90, 'Render done'],
  ['finalizing', 95, 'Checking quality'],
];

function run(s) {
  const step = fast ? 250 : 900;
  STAGES.forEach(([stage, progress, message], i) => {
    setTimeout(() => {
      if (s.status !== 'queued' && s.status !== 'processing') return;
      Object.assign(s, { status: i === 0 ? 'queued' : 'processing', stage, progress, message, estimatedTime: ((STAGES.length - i) * step) / 1000, updatedAt: now() });
      if (stage === 'ai-processing') s.attempts = 1;
      publish(s);
    }, i * step);
  });
  setTimeout(() => {
    if (s.status !== 'processing') return;
    Object.assign(s, {
      status: 'preview_ready', stage: 'complete', progress: 100, message: 'Preview ready', estimatedTime: null,
      previewUrl: `/api/tryon/sessions/${s.sessionId}/preview`, attempts: 2,
      autoConfirmAt: new Date(Date.now() + 30_000).toISOString(), updatedAt: now(),
      validation: {
        passes: true, overallQuality: 0.78,
        consistency: { face: 0.86, pose: 0.71 },
        accuracy: { color: 0.92, style: 0.64, branding: 0.55 },
        feedback: ['Branding quality 55 % is below the 75 % pass mark: the print is blurred.', 'Retried once with stronger branding enhancement.'],
      },
    });
    publish(s);
    s.timer = setTimeout(() => finish(s, 'confirmed'), 30_000);
  }, STAGES.length * step);
}

function finish(s, status) {
  clearTimeout(s.timer);
  s.status = status;
  s.updatedAt = now();
  s.autoConfirmAt = null;
  if (status === 'confirmed') s.resultUrl = `/api/tryon/sessions/${s.sessionId}/result`;
  else user.credits += COST[s.quality]; // refunds
  s.message = `Session ${status}`;
  publish(s);
}

const previewPng = () => png(W, H, (x, y) => {
  const cx = W / 2;
  if ((x - cx) ** 2 + (y - 45) ** 2 < 25 ** 2) return [224, 182, 150];
  if (Math.abs(x - cx) < 40 && y > 72 && y < 190) return y > 100 && y < 125 && Math.abs(x - cx) < 16 ? [245, 245, 245] : [196, 32, 44];
  if (y >= 190 && y < 305 && Math.abs(Math.abs(x - cx) - 20) < 15) return [40, 40, 48];
  return [222, 218, 210];
});

async function api(req, res, url) {
  const p = url.pathname;
  const m = (re) => re.exec(p);
  if (p === '/health') return send(res, 200, { status: 'ok' });
  if (!authed(req, url)) return err(res, 401, 'AUTH_001', 'missing or unknown API key');
  let g;
  if (p === '/api/me') return send(res, 200, user);
  if (p === '/api/avatars' && req.method === 'POST') {
    const f = filePart(req, await readBody(req), 'photo');
    if (!f || !isImage(f.data)) return err(res, 422, 'IMG_004', 'not a JPEG, PNG or WebP image');
    const a = { id: randomUUID(), status: 'processing', error: null, createdAt: now(), files: ['photo'], photo: f };
    avatars.set(a.id, a);
    setTimeout(() => Object.assign(a, { status: 'ready', files: FILES }), fast ? 800 : 3000);
    return send(res, 202, { id: a.id, status: 'processing' });
  }
  const pub = (a) => ({ id: a.id, status: a.status, error: a.error, createdAt: a.createdAt, files: a.files });
  if (p === '/api/avatars') return send(res, 200, { items: [...avatars.values()].reverse().map(pub), nextCursor: null });
  if ((g = m(/^\/api\/avatars\/([^/]+)$/))) {
    const a = avatars.get(g[1]);
    if (!a) return err(res, 404, 'NOT_FOUND', 'no such avatar');
    if (req.method === 'DELETE') { avatars.delete(a.id); return send(res, 204); }
    return send(res, 200, pub(a));
  }
  if ((g = m(/^\/api\/avatars\/([^/]+)\/files\/([^/]+)$/))) {
    const a = avatars.get(g[1]);
    const name = decodeURIComponent(g[2]);
    if (!a || !a.files.includes(name)) return err(res, 404, 'NOT_FOUND', 'no such file');
    if (name === 'photo') return send(res, 200, a.photo.data, { 'Content-Type': a.photo.type || 'image/png' });
    if (name === 'body.glb') return send(res, 200, bodyGlb(), { 'Content-Type': 'model/gltf-binary' });
    if (name === 'smpl.json') return send(res, 200, { beta: Array(10).fill(0), theta: Array(72).fill(0) });
    return send(res, 200, maps[name](), { 'Content-Type': 'image/png' });
  }
  if (p === '/api/garments' && req.method === 'POST') {
    const f = filePart(req, await readBody(req), 'image');
    if (!f || !isImage(f.data)) return err(res, 422, 'IMG_004', 'not a JPEG, PNG or WebP image');
    const gar = { id: randomUUID(), createdAt: now(), analysis: analysisFixture, image: f };
    garments.set(gar.id, gar);
    return send(res, 201, { id: gar.id, createdAt: gar.createdAt, analysis: gar.analysis });
  }
  if (p === '/api/garments') return send(res, 200, { items: [...garments.values()].reverse().map(({ image, ...x }) => x), nextCursor: null });
  if ((g = m(/^\/api\/garments\/([^/]+)(\/image)?$/))) {
    const gar = garments.get(g[1]);
    if (!gar) return err(res, 404, 'NOT_FOUND', 'no such garment');
    if (g[2]) return send(res, 200, gar.image.data, { 'Content-Type': gar.image.type || 'image/png' });
    const { image, ...x } = gar;
    return send(res, 200, x);
  }
  if (p === '/api/tryon/sessions' && req.method === 'POST') {
    const b = JSON.parse((await readBody(req)).toString() || '{}');
    if (!avatars.has(b.avatarId) || !garments.has(b.garmentId)) return err(res, 404, 'NOT_FOUND', 'no such avatar or garment');
    const quality = b.quality ?? 'hd';
    if (!(quality in COST)) return err(res, 422, 'IMG_004', 'bad quality');
    if (user.credits < COST[quality]) return err(res, 402, 'CREDITS_402', 'not enough credits');
    user.credits -= COST[quality];
    const s = {
      sessionId: randomUUID(), avatarId: b.avatarId, garmentId: b.garmentId, quality, tier: b.preferences?.tier ?? 'standard',
      status: 'queued', stage: 'queued', progress: 0, message: 'Queued', estimatedTime: null, validation: null, attempts: 0,
      previewUrl: null, resultUrl: null, error: null, createdAt: now(), updatedAt: now(), autoConfirmAt: null,
    };
    sessions.set(s.sessionId, s);
    setTimeout(() => run(s), 300);
    return send(res, 202, { sessionId: s.sessionId });
  }
  const pubS = ({ timer, ...s }) => s;
  if (p === '/api/tryon/sessions') return send(res, 200, { items: [...sessions.values()].reverse().map(pubS), nextCursor: null });
  if ((g = m(/^\/api\/tryon\/sessions\/([^/]+)(?:\/(\w+))?$/))) {
    const s = sessions.get(g[1]);
    if (!s) return err(res, 404, 'NOT_FOUND', 'no such session');
    const action = g[2];
    if (!action) return send(res, 200, pubS(s));
    if (['confirm', 'reject', 'cancel'].includes(action) && req.method === 'POST') {
      const ok = action === 'cancel' ? ['queued', 'processing'].includes(s.status) : s.status === 'preview_ready';
      if (!ok) return err(res, 409, 'STATE_409', `cannot ${action} a ${s.status} session`);
      finish(s, { confirm: 'confirmed', reject: 'rejected', cancel: 'cancelled' }[action]);
      return send(res, 200, pubS(s));
    }
    if (action === 'preview') return s.previewUrl ? send(res, 200, previewPng(), { 'Content-Type': 'image/png' }) : err(res, 404, 'NOT_FOUND', 'no preview yet');
    if (action === 'result') return s.resultUrl ? send(res, 200, previewPng(), { 'Content-Type': 'image/png' }) : err(res, 404, 'NOT_FOUND', 'not confirmed');
    if (action === 'events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      const last = Number(req.headers['last-event-id'] ?? 0);
      for (const e of events.get(s.sessionId) ?? []) if (e.seq > last) res.write(`id: ${e.seq}\nevent: status-update\ndata: ${JSON.stringify(e)}\n\n`);
      const set = sseClients.get(s.sessionId) ?? new Set();
      set.add(res);
      sseClients.set(s.sessionId, set);
      req.on('close', () => set.delete(res));
      return;
    }
  }
  return err(res, 404, 'NOT_FOUND', 'no such route');
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };
function serveStatic(res, url) {
  let file = path.join(dist, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ''));
  if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(dist, 'index.html');
  if (!existsSync(file)) return send(res, 404, 'run `npm run build` first', { 'Content-Type': 'text/plain' });
  const immutable = file.includes(`${path.sep}assets${path.sep}`);
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
  res.end(readFileSync(file));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname.startsWith('/socket.io')) return; // socket.io's own handler (or 404 below when disabled)
  if (url.pathname.startsWith('/api/') || url.pathname === '/health') {
    api(req, res, url).catch((e) => err(res, 500, 'IO_014', String(e)));
    return;
  }
  serveStatic(res, url);
});

if (!noSocket) {
  const { Server } = await import('socket.io');
  io = new Server(server, { serveClient: false });
  io.of('/tryon').use((socket, next) => (socket.handshake.auth?.token === KEY ? next() : next(new Error('AUTH_001: unknown API key'))));
  io.of('/tryon').on('connection', (socket) => {
    socket.on('join-session', (msg) => {
      const id = typeof msg === 'string' ? msg : msg?.sessionId;
      if (!sessions.has(id)) return socket.emit('error', { code: 'NOT_FOUND', message: 'no such session' });
      socket.join(id);
    });
  });
} else {
  server.prependListener('request', (req, res) => {
    if ((req.url ?? '').startsWith('/socket.io')) err(res, 404, 'NOT_FOUND', 'socket.io disabled in this fake');
  });
}

server.listen(port, '127.0.0.1', () => {
  console.log(`garmax studio fake on http://127.0.0.1:${port} (key ${KEY}, socket.io ${noSocket ? 'off' : 'on'})`);
});
