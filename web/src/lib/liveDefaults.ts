import { io } from 'socket.io-client';
import type { Session } from '../api/types';
import { pollTransport, socketTransport, sseTransport, type Transport } from './live';

/** The browser's transports: socket.io `/tryon`, then SSE, then polling. */
export function browserTransports(getSession: (id: string) => Promise<Session>, onReconnect?: () => void): Transport[] {
  const list: Transport[] = [
    socketTransport(
      (token) =>
        io('/tryon', {
          auth: { token },
          reconnectionAttempts: 5,
          timeout: 5000,
        }),
      { connectTimeoutMs: 6000, onReconnect },
    ),
  ];
  if (typeof EventSource !== 'undefined') list.push(sseTransport((url) => new EventSource(url)));
  list.push(pollTransport(getSession, 2000));
  return list;
}
