// The session's write side: frames go to the socket in the order they were queued, even when one
// of them (a SYN_REPLY) is still being compressed, and writers learn when to wait (the socket's
// write() returned false, or a frame ahead of them is not ready yet) and when to go on ('drain').
import type { Duplex } from 'node:stream';

export class OrderedOutput {
  private queue: (Buffer | Promise<Buffer>)[] = [];
  private waiters: (() => void)[] = [];
  private ending = false;
  private dead = false;

  constructor(
    private readonly socket: Duplex,
    private readonly onSent: () => void,
    private readonly onFailure: (error: unknown) => void,
  ) {
    socket.on('drain', () => {
      if (this.queue.length === 0) this.wake();
    });
  }

  /** Queues one frame; false when the writer should wait for whenWritable(). */
  write(frame: Buffer | Promise<Buffer>): boolean {
    if (this.dead || this.ending) return true;
    if (this.queue.length === 0 && Buffer.isBuffer(frame)) return this.put(frame);
    this.queue.push(frame);
    if (this.queue.length === 1) void this.flush();
    return false;
  }

  whenWritable(callback: () => void): void {
    if (this.dead || (this.queue.length === 0 && !this.socket.writableNeedDrain)) process.nextTick(callback);
    else this.waiters.push(callback);
  }

  /** Ends the socket once every queued frame is written; later frames are dropped. */
  end(): void {
    this.ending = true;
    if (this.queue.length === 0 && !this.dead) this.socket.end();
  }

  /** The socket is gone: drop everything and release the writers. */
  kill(): void {
    this.dead = true;
    this.queue = [];
    this.wake();
  }

  private put(frame: Buffer): boolean {
    this.onSent();
    return this.socket.write(frame);
  }

  private async flush(): Promise<void> {
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      let frame: Buffer;
      try {
        frame = await head;
      } catch (e) {
        this.onFailure(e);
        return;
      }
      if (this.dead) return;
      void this.queue.shift(); // the head, already awaited above
      this.put(frame);
    }
    if (this.ending) this.socket.end();
    if (!this.socket.writableNeedDrain) this.wake();
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}
