/**
 * A Node SSE reader for gateway tests: node:http over a real TCP connection (so pausing its socket
 * is real TCP backpressure on the gateway), parsing `text/event-stream` per the HTML spec's rules
 * that the gateway uses (event, data, id, comments).
 */
import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface SseEvent {
  event: string;
  data: any;
  /** the raw data text (the frame's bytes) */
  raw: string;
  /** the id field of this event, if it had one */
  id: string | undefined;
}

export class SseReader {
  readonly events: SseEvent[] = [];
  comments = 0;
  /** the last id seen (EventSource's lastEventId) */
  lastEventId = '';
  ended = false;
  private buf = '';
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  private constructor(
    readonly res: IncomingMessage,
    readonly socket: Socket,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf('\n\n')) >= 0) {
        const block = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        this.block(block);
      }
      this.wake();
    });
    res.on('end', () => {
      this.ended = true;
      this.wake();
    });
    res.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** GET `url`; resolves with the status and, for a 200, the reader */
  static async open(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body?: string; reader?: SseReader }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
          return;
        }
        resolve({ status: 200, reader: new SseReader(res, req.socket!) });
      });
      req.on('error', reject);
      req.end();
    });
  }

  private block(block: string): void {
    let event = 'message';
    const data: string[] = [];
    let id: string | undefined;
    let comment = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comment = true;
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.startsWith('id: ')) id = line.slice(4);
    }
    if (id !== undefined) this.lastEventId = id;
    if (data.length === 0) {
      if (comment) this.comments++;
      return;
    }
    const raw = data.join('\n');
    this.events.push({ event, data: JSON.parse(raw), raw, id });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true));
  }

  /** resolves once `pred` holds (checked on every chunk) */
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** resolves with the first event (from index `from`) matching `pred` */
  async next(pred: (e: SseEvent) => boolean, from = 0): Promise<SseEvent> {
    let hit: SseEvent | undefined;
    await this.until(() => (hit = this.events.slice(from).find(pred)) !== undefined || this.ended);
    if (!hit) throw new Error('stream ended first');
    return hit;
  }

  data(): any[] {
    return this.events.filter((e) => e.event === 'snapshot' || e.event === 'delta').map((e) => e.data);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.res.destroy();
    this.socket.destroy();
  }
}
