// An upgrade request answered without upgrading (SPDY or WebSocket): a status line and plain text,
// as a kubelet writes it, then the socket closes. Node hands upgrade requests to the server's
// 'upgrade' event with the raw socket, so the answer is written by hand.
import type { Duplex } from 'node:stream';

const reasons: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented',
};

export function refuseUpgrade(socket: Duplex, status: number, message: string, headers: readonly (readonly [string, string])[] = []): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(`${message}\n`, 'utf8');
  const extra = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const head = `HTTP/1.1 ${String(status)} ${reasons[status] ?? 'Error'}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${String(body.length)}\r\nConnection: close\r\n\r\n`;
  socket.once('finish', () => socket.destroy());
  socket.once('error', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}
