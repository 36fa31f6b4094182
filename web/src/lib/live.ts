// Live progress of one try-on session: socket.io first, then SSE, then
// polling. Each transport reports updates and, when it cannot work, fails;
// the feed then moves on to the next. Updates are de-duplicated by `seq`
// (SSE replays stored events, and a late socket event may repeat one).

import type { Session, StatusUpdate } from '../api/types';

export type TransportName = 'socket' | 'sse' | 'poll';

export interface TransportHandlers {
  update(u: StatusUpdate): void;
  /** The transport is connected and joined. */
  open(): void;
  /** The transport cannot deliver (refused, unreachable, closed for good). */
  fail(reason: string): void;
}

export interface Transport {
  name: TransportName;
  start(sessionId: string, token: string, h: TransportHandlers): () => void;
}

export interface FeedCallbacks {
  onUpdate(u: StatusUpdate): void;
  /** A transport is being tried (or 'none': all failed). */
  onTransport?(name: TransportName | 'none', reason?: string): void;
  /** The transport is connected and delivering. */
  onOpen?(name: TransportName): void;
}

export interface Feed {
  close(): void;
  readonly transport: TransportName | 'none';
}

const FINAL = new Set(['confirmed', 'rejected', 'cancelled', 'failed']);

export function createFeed(
  sessionId: string,
  token: string,
  transports: Transport[],
  cb: FeedCallbacks,
): Feed {
  let lastSeq = -Infinity;
  let index = -1;
  let stop: (() => void) | null = null;
  let closed = false;
  let current: TransportName | 'none' = 'none';

  const next = (reason?: string) => {
    if (stop) {
      const s = stop;
      stop = null;
      s();
    }
    if (closed) return;
    index += 1;
    if (index >= transports.length) {
      current = 'none';
      cb.onTransport?.('none', reason);
      return;
    }
    const t = transports[index];
    current = t.name;
    let alive = true;
    const mine = index;
    const handlers: TransportHandlers = {
      update(u) {
        if (!alive || closed) return;
        if (u.sessionId && u.sessionId !== sessionId) return;
        if (typeof u.seq === 'number') {
          if (u.seq <= lastSeq) return;
          lastSeq = u.seq;
        }
        cb.onUpdate(u);
        if (FINAL.has(u.status)) closeFeed();
      },
      open() {
        if (alive && !closed) cb.onOpen?.(t.name);
      },
      fail(why) {
        if (!alive || closed || mine !== index) return;
        alive = false;
        next(`${t.name}: ${why}`);
      },
    };
    cb.onTransport?.(t.name, reason);
    const s = t.start(sessionId, token, handlers);
    // A transport may fail synchronously inside start().
    if (alive && mine === index) stop = () => { alive = false; s(); };
    else s();
  };

  function closeFeed() {
    if (closed) return;
    closed = true;
    if (stop) {
      const s = stop;
      stop = null;
      s();
    }
  }

  const feed: Feed = {
    close: closeFeed,
    get transport() {
      return current;
    },
  };
  next();
  return feed;
}

// ---- socket.io -----------------------------------------------------------

/** The part of a socket.io client socket the transport uses. */
// `any[]`: socket.io's own Socket must fit this interface, and its
// listeners take event-specific arguments that `unknown[]` would refuse.
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface SocketLike {
  on(event: string, fn: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  disconnect(): unknown;
  io?: { on(event: string, fn: (...args: any[]) => void): unknown };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export type SocketFactory = (token: string) => SocketLike;

export interface SocketOptions {
  /** Give up when not connected and joined after this long. */
  connectTimeoutMs?: number;
  /** connect_error events tolerated before giving up. */
  maxConnectErrors?: number;
  /** Called after a reconnect, to catch up on missed events. */
  onReconnect?(): void;
}

export function socketTransport(factory: SocketFactory, opts: SocketOptions = {}): Transport {
  const timeoutMs = opts.connectTimeoutMs ?? 5000;
  const maxErrors = opts.maxConnectErrors ?? 2;
  return {
    name: 'socket',
    start(sessionId, token, h) {
      let socket: SocketLike;
      try {
        socket = factory(token);
      } catch (e) {
        h.fail(`cannot create socket (${String(e)})`);
        return () => {};
      }
      let connectedOnce = false;
      let errors = 0;
      let done = false;
      const timer = setTimeout(() => {
        if (!connectedOnce) finish('no connection in time');
      }, timeoutMs);
      const finish = (why: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        try { socket.disconnect(); } catch { /* already closed */ }
        h.fail(why);
      };
      // The server replays the stored updates after `lastSeq` on join, so a
      // rejoin after a reconnect misses nothing.
      let lastSeq = 0;
      socket.on('connect', () => {
        errors = 0;
        socket.emit('join-session', { sessionId, lastSeq });
        if (connectedOnce) opts.onReconnect?.();
        connectedOnce = true;
        clearTimeout(timer);
        h.open();
      });
      socket.on('connect_error', (err: unknown) => {
        errors += 1;
        const msg = err instanceof Error ? err.message : String(err);
        // Refused at connect (bad key) or unreachable: fall back. A socket
        // that worked before gets its reconnects from socket.io itself.
        if (!connectedOnce && errors >= maxErrors) finish(`connect error: ${msg}`);
      });
      socket.on('error', (err: unknown) => {
        const msg =
          typeof err === 'object' && err && 'message' in err ? String((err as { message: unknown }).message) : String(err);
        finish(`server error: ${msg}`);
      });
      socket.on('status-update', (u: StatusUpdate) => {
        if (typeof u.seq === 'number' && u.seq > lastSeq) lastSeq = u.seq;
        if (!done) h.update(u);
      });
      socket.on('disconnect', (reason: string) => {
        // The server closed us on purpose (e.g. auth revoked): don't loop.
        if (reason === 'io server disconnect') finish('server disconnected');
      });
      return () => {
        done = true;
        clearTimeout(timer);
        try { socket.disconnect(); } catch { /* already closed */ }
      };
    },
  };
}

// ---- SSE -----------------------------------------------------------------

export interface EventSourceLike {
  addEventListener(type: string, fn: (ev: MessageEvent) => void): void;
  close(): void;
  readonly readyState: number;
  onopen: ((ev: Event) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

export function sseUrl(sessionId: string, token: string): string {
  return `/api/tryon/sessions/${encodeURIComponent(sessionId)}/events?token=${encodeURIComponent(token)}`;
}

export function sseTransport(factory: EventSourceFactory, opts: { maxErrors?: number } = {}): Transport {
  const maxErrors = opts.maxErrors ?? 3;
  return {
    name: 'sse',
    start(sessionId, token, h) {
      let es: EventSourceLike;
      try {
        es = factory(sseUrl(sessionId, token));
      } catch (e) {
        h.fail(`cannot open (${String(e)})`);
        return () => {};
      }
      let errors = 0;
      let opened = false;
      es.onopen = () => {
        errors = 0;
        opened = true;
        h.open();
      };
      es.onerror = () => {
        errors += 1;
        // readyState 2 = CLOSED: the browser gave up (e.g. 401/404 answer).
        if (es.readyState === 2 || errors >= maxErrors || (!opened && errors >= 2)) {
          es.close();
          h.fail(es.readyState === 2 ? 'stream closed' : 'stream errors');
        }
      };
      es.addEventListener('status-update', (ev: MessageEvent) => {
        try {
          const u = JSON.parse(String(ev.data)) as StatusUpdate;
          if (u.seq == null && ev.lastEventId && /^\d+$/.test(ev.lastEventId)) u.seq = Number(ev.lastEventId);
          h.update(u);
        } catch {
          /* a malformed event is skipped */
        }
      });
      return () => es.close();
    },
  };
}

// ---- polling -------------------------------------------------------------

export function sessionToUpdate(s: Session): StatusUpdate {
  return {
    sessionId: s.sessionId,
    status: s.status,
    stage: s.stage,
    progress: s.progress,
    message: s.message,
    estimatedTime: s.estimatedTime ?? null,
    previewUrl: s.previewUrl ?? null,
    error: s.error ?? null,
    attempts: s.attempts,
  };
}

export function pollTransport(
  getSession: (id: string) => Promise<Session>,
  intervalMs = 2000,
): Transport {
  return {
    name: 'poll',
    start(sessionId, _token, h) {
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | null = null;
      let failures = 0;
      const tick = async () => {
        try {
          const s = await getSession(sessionId);
          if (stopped) return;
          failures = 0;
          h.open();
          h.update(sessionToUpdate(s));
        } catch {
          failures += 1;
          if (failures >= 5) {
            h.fail('session cannot be read');
            return;
          }
        }
        if (!stopped) timer = setTimeout(tick, intervalMs);
      };
      void tick();
      return () => {
        stopped = true;
        if (timer) clearTimeout(timer);
      };
    },
  };
}
