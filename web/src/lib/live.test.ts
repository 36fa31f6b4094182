import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Session, StatusUpdate } from '../api/types';
import {
  createFeed,
  pollTransport,
  socketTransport,
  sseTransport,
  sseUrl,
  type EventSourceLike,
  type SocketLike,
  type Transport,
  type TransportHandlers,
} from './live';

/** A transport the test drives by hand. */
function fakeTransport(name: 'socket' | 'sse' | 'poll') {
  const t = {
    handlers: null as TransportHandlers | null,
    started: 0,
    stopped: 0,
    transport: {
      name,
      start(_id: string, _token: string, h: TransportHandlers) {
        t.started += 1;
        t.handlers = h;
        return () => {
          t.stopped += 1;
        };
      },
    } as Transport,
  };
  return t;
}

const upd = (seq: number, stage = 'smpl-start', status: StatusUpdate['status'] = 'processing'): StatusUpdate => ({
  sessionId: 's1',
  status,
  stage,
  progress: 10,
  seq,
});

describe('createFeed', () => {
  it('uses the first transport while it works', () => {
    const a = fakeTransport('socket');
    const b = fakeTransport('sse');
    const got: StatusUpdate[] = [];
    const feed = createFeed('s1', 'k', [a.transport, b.transport], { onUpdate: (u) => got.push(u) });
    a.handlers!.open();
    a.handlers!.update(upd(1));
    a.handlers!.update(upd(2, 'smpl-pose-complete'));
    expect(got.map((u) => u.seq)).toEqual([1, 2]);
    expect(b.started).toBe(0);
    expect(feed.transport).toBe('socket');
    feed.close();
    expect(a.stopped).toBe(1);
  });

  it('falls back to the next transport and de-duplicates its replay by seq', () => {
    const a = fakeTransport('socket');
    const b = fakeTransport('sse');
    const got: number[] = [];
    const transports: string[] = [];
    const opened: string[] = [];
    const feed = createFeed('s1', 'k', [a.transport, b.transport], {
      onUpdate: (u) => got.push(u.seq!),
      onTransport: (n) => transports.push(n),
      onOpen: (n) => opened.push(n),
    });
    a.handlers!.update(upd(1));
    a.handlers!.update(upd(2));
    a.handlers!.fail('connect error');
    expect(opened).toEqual([]);
    expect(a.stopped).toBe(1);
    expect(b.started).toBe(1);
    expect(feed.transport).toBe('sse');
    b.handlers!.open();
    expect(opened).toEqual(['sse']);
    // SSE replays the stored events first.
    for (const s of [1, 2, 3, 4]) b.handlers!.update(upd(s));
    expect(got).toEqual([1, 2, 3, 4]);
    // A late event from the dead socket is ignored.
    a.handlers!.update(upd(9));
    expect(got).toEqual([1, 2, 3, 4]);
    expect(transports).toEqual(['socket', 'sse']);
  });

  it('reports none when every transport failed', () => {
    const a = fakeTransport('socket');
    const b = fakeTransport('sse');
    const seen: string[] = [];
    const feed = createFeed('s1', 'k', [a.transport, b.transport], { onUpdate: () => {}, onTransport: (n) => seen.push(n) });
    a.handlers!.fail('x');
    b.handlers!.fail('y');
    expect(feed.transport).toBe('none');
    expect(seen.at(-1)).toBe('none');
  });

  it('ignores other sessions and stops at a final status', () => {
    const a = fakeTransport('socket');
    const got: StatusUpdate[] = [];
    createFeed('s1', 'k', [a.transport], { onUpdate: (u) => got.push(u) });
    a.handlers!.update({ ...upd(1), sessionId: 'other' });
    a.handlers!.update(upd(2, 'complete', 'preview_ready'));
    a.handlers!.update(upd(3, 'complete', 'confirmed'));
    expect(a.stopped).toBe(1);
    a.handlers!.update(upd(4));
    expect(got.map((u) => u.status)).toEqual(['preview_ready', 'confirmed']);
  });

  it('survives a transport that fails inside start()', () => {
    const bad: Transport = {
      name: 'socket',
      start(_i, _t, h) {
        h.fail('no socket.io here');
        return () => {};
      },
    };
    const b = fakeTransport('sse');
    const feed = createFeed('s1', 'k', [bad, b.transport], { onUpdate: () => {} });
    expect(feed.transport).toBe('sse');
    expect(b.started).toBe(1);
  });
});

/** A fake socket.io socket (its listeners typed as SocketLike's are). */
/* eslint-disable @typescript-eslint/no-explicit-any */
class FakeSocket implements SocketLike {
  handlers = new Map<string, ((...a: any[]) => void)[]>();
  emitted: [string, unknown[]][] = [];
  disconnected = false;
  on(ev: string, fn: (...a: any[]) => void) {
    this.handlers.set(ev, [...(this.handlers.get(ev) ?? []), fn]);
    return this;
  }
  emit(ev: string, ...args: unknown[]) {
    this.emitted.push([ev, args]);
    return this;
  }
  disconnect() {
    this.disconnected = true;
    return this;
  }
  fire(ev: string, ...args: unknown[]) {
    for (const fn of this.handlers.get(ev) ?? []) fn(...args);
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

describe('socketTransport', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const setup = (opts = {}) => {
    const sock = new FakeSocket();
    const tokens: string[] = [];
    const t = socketTransport((token) => {
      tokens.push(token);
      return sock;
    }, opts);
    const events = { updates: [] as StatusUpdate[], fails: [] as string[], opens: 0 };
    const stop = t.start('s1', 'key', {
      update: (u) => events.updates.push(u),
      fail: (r) => events.fails.push(r),
      open: () => (events.opens += 1),
    });
    return { sock, tokens, events, stop };
  };

  it('joins the session on connect and relays status-update', () => {
    const { sock, tokens, events } = setup();
    expect(tokens).toEqual(['key']);
    sock.fire('connect');
    expect(sock.emitted).toEqual([['join-session', [{ sessionId: 's1', lastSeq: 0 }]]]);
    sock.fire('status-update', upd(1));
    expect(events.updates).toHaveLength(1);
    expect(events.opens).toBe(1);
  });

  it('fails after repeated connect errors (refused key)', () => {
    const { sock, events } = setup({ maxConnectErrors: 2 });
    sock.fire('connect_error', new Error('invalid token'));
    expect(events.fails).toHaveLength(0);
    sock.fire('connect_error', new Error('invalid token'));
    expect(events.fails[0]).toMatch(/invalid token/);
    expect(sock.disconnected).toBe(true);
  });

  it('fails when never connected in time', () => {
    const { events } = setup({ connectTimeoutMs: 3000 });
    vi.advanceTimersByTime(2999);
    expect(events.fails).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(events.fails[0]).toMatch(/in time/);
  });

  it('fails on an error event (not the owner)', () => {
    const { sock, events } = setup();
    sock.fire('connect');
    sock.fire('error', { message: 'not allowed' });
    expect(events.fails[0]).toMatch(/not allowed/);
  });

  it('re-joins and asks to catch up after a reconnect', () => {
    const onReconnect = vi.fn();
    const { sock, events } = setup({ onReconnect });
    sock.fire('connect');
    sock.fire('status-update', upd(4));
    sock.fire('disconnect', 'transport close');
    sock.fire('connect_error', new Error('x'));
    sock.fire('connect_error', new Error('x'));
    expect(events.fails).toHaveLength(0); // socket.io keeps reconnecting
    sock.fire('connect');
    const joins = sock.emitted.filter(([e]) => e === 'join-session');
    expect(joins).toHaveLength(2);
    // The rejoin asks for what came after the last update it had.
    expect(joins[1][1]).toEqual([{ sessionId: 's1', lastSeq: 4 }]);
    expect(onReconnect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(events.fails).toHaveLength(0);
  });

  it('stops listening when stopped', () => {
    const { sock, events, stop } = setup();
    sock.fire('connect');
    stop();
    expect(sock.disconnected).toBe(true);
    sock.fire('status-update', upd(5));
    expect(events.updates).toHaveLength(0);
  });
});

class FakeEventSource implements EventSourceLike {
  url: string;
  readyState = 0;
  onopen: ((ev: Event) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  listeners = new Map<string, ((ev: MessageEvent) => void)[]>();
  closed = false;
  constructor(url: string) {
    this.url = url;
  }
  addEventListener(type: string, fn: (ev: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  send(type: string, data: unknown, id = '') {
    const ev = new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id });
    for (const fn of this.listeners.get(type) ?? []) fn(ev);
  }
}

describe('sseTransport', () => {
  const setup = () => {
    let es!: FakeEventSource;
    const t = sseTransport((url) => (es = new FakeEventSource(url)));
    const ev = { updates: [] as StatusUpdate[], fails: [] as string[] };
    t.start('s 1', 'k&y', { update: (u) => ev.updates.push(u), fail: (r) => ev.fails.push(r), open: () => {} });
    return { es, ev };
  };

  it('opens the events URL with the token and parses status-update', () => {
    const { es, ev } = setup();
    expect(es.url).toBe(sseUrl('s 1', 'k&y'));
    expect(es.url).toBe('/api/tryon/sessions/s%201/events?token=k%26y');
    es.onopen?.(new Event('open'));
    es.send('status-update', { sessionId: 's 1', status: 'processing', stage: 'ai-queued' }, '7');
    expect(ev.updates[0].seq).toBe(7); // from the SSE id when the payload has none
    expect(ev.updates[0].stage).toBe('ai-queued');
  });

  it('fails when the browser closes the stream', () => {
    const { es, ev } = setup();
    es.readyState = 2;
    es.onerror?.(new Event('error'));
    expect(ev.fails).toHaveLength(1);
  });

  it('tolerates a transient error after opening', () => {
    const { es, ev } = setup();
    es.onopen?.(new Event('open'));
    es.readyState = 0; // reconnecting
    es.onerror?.(new Event('error'));
    expect(ev.fails).toHaveLength(0);
  });
});

describe('pollTransport', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  it('reads the session on an interval', async () => {
    let n = 0;
    const get = async (): Promise<Session> => ({ sessionId: 's1', status: 'processing', stage: n++ ? 'ai-processing' : 'queued' });
    const updates: StatusUpdate[] = [];
    const stop = pollTransport(get, 1000).start('s1', 'k', { update: (u) => updates.push(u), fail: () => {}, open: () => {} });
    await vi.advanceTimersByTimeAsync(0);
    expect(updates.map((u) => u.stage)).toEqual(['queued']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(updates.map((u) => u.stage)).toEqual(['queued', 'ai-processing']);
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(updates).toHaveLength(2);
  });
});
