/**
 * The SSE sink: a client-hop connection over a uWS HttpResponse (`GET /v1/sse`, gateway.ts). It is
 * a `Socket` like a WebSocket, so the session, auth, expiry, server API, local fan-out and flow
 * control are the WebSocket's own code; only the bytes differ (protocol/sse.ts): control frames
 * are complete events, data frames (SseDataEvent, encoded once per frame and shared by every SSE
 * subscriber) get this stream's `id:` cursor appended — the seq delivered per doc, updated as each
 * data frame is written.
 *
 * Backpressure: uWS has no buffered-amount for an HttpResponse, so this keeps an estimate: the
 * bytes written since a write last found uWS's buffer empty (0 while writes go through). A write
 * made while uWS holds unsent bytes returns false; `onWritable` (uWS: the socket can take more)
 * is answered with a probe — a 2-byte comment `:\n` — whose success means the buffer is empty:
 * the estimate drops to 0 and the fan-out's `onDrain` catches the connection up (one frame per
 * doc). Over `hardCap` bytes a frame is dropped (send() = 2: the fan-out then owes that doc a
 * snapshot), like uWS's maxBackpressure for WebSockets.
 *
 * uWS closes an HTTP connection 10 s after a write that left bytes unsent, unless another write
 * follows; a stalled stream is kept for the gateway's own SLOW_CONSUMER_TIMEOUT_MS instead by a
 * probe every `STALL_PROBE_MS` while stalled (gateway.ts; sse.test.ts fails without it), and a
 * drained one gets one more probe right after the drain (see `probe`).
 *
 * Memory per stream: this object, the doc list and one seq string per doc (shared with the
 * frames), one onWritable closure; nothing per message.
 */
import type { HttpResponse, RecognizedString } from 'uWebSockets.js';
import type { SseDataEvent } from '@replicant/protocol';
import type { Frame, Session, Socket, SocketData } from './session.js';

/** while stalled, a probe this often keeps uWS from closing the stream (its timer is 10 s) */
export const STALL_PROBE_MS = 3000;

export interface SseHooks {
  /** the buffer emptied: catch the connection up (LocalFanout.onDrain) */
  onDrain(sock: SseSocket): void;
  /** the stream is over (ended by us or aborted by the client): the connection's teardown */
  onClose(sock: SseSocket): void;
}

// the write of one cork: module-level so that a send needs no closure
let curRes: HttpResponse | undefined;
let curText = '';
let curOk = true;
function writeCur(): void {
  curOk = curRes!.write(curText);
}

export class SseSocket implements Socket {
  /** estimated bytes uWS holds unsent (0 = the last write found its buffer empty) */
  private buffered = 0;
  /** the last write left bytes unsent */
  private stalled = false;
  private probeQueued = false;
  private ended = false;
  /** ms of the last write (keep-alive pings go after `pingMs` of silence) */
  lastWriteMs = Date.now();
  /** the decimal seq delivered per doc ('' = none yet), in doc-list order */
  private readonly seqs: string[];
  private readonly index: Map<string, number>;
  private readonly data: SocketData;

  constructor(
    private readonly res: HttpResponse,
    session: Session,
    readonly docs: readonly string[],
    /** the cursor's fixed part (protocol sseCursorPrefix) */
    private readonly cursorPrefix: string,
    /** the seqs the client resumed from (from its Last-Event-ID), per doc */
    resumed: readonly (bigint | undefined)[] | undefined,
    private readonly hardCap: number,
    private readonly hooks: SseHooks,
  ) {
    this.data = { session };
    this.seqs = docs.map((_, i) => resumed?.[i]?.toString() ?? '');
    this.index = new Map(docs.map((d, i) => [d, i]));
    res.onWritable(() => {
      // uWS drains its buffer with our next write: probe once this callback has returned
      if (!this.probeQueued) {
        this.probeQueued = true;
        setImmediate(this.probe);
      }
      return true;
    });
  }

  getUserData(): SocketData {
    return this.data;
  }

  getBufferedAmount(): number {
    return this.buffered;
  }

  get isStalled(): boolean {
    return this.stalled && !this.ended;
  }

  cork(cb: () => void): unknown {
    if (this.ended) return undefined;
    return this.res.cork(cb);
  }

  /** one frame: a control event as it is, a data event with this stream's cursor */
  send(frame: Frame, _isBinary?: boolean, _compress?: boolean): number {
    if (this.ended) return 2;
    if (this.buffered > this.hardCap) return 2;
    let text: string;
    if (typeof frame === 'string') text = frame;
    else {
      const ev = frame as SseDataEvent;
      const i = this.index.get(ev.doc);
      if (i !== undefined) this.seqs[i] = ev.seq;
      text = `${ev.text}id: ${this.cursor()}\n\n`;
    }
    return this.write(text) ? 1 : 0;
  }

  /** `: ping` (keep-alive for proxies and the client) */
  ping(): void {
    if (!this.ended) this.write(': ping\n\n');
  }

  /** while stalled: a probe, so uWS keeps the stream for our slow-consumer timeout; it also finds a drain */
  readonly probe = (): void => {
    this.probeQueued = false;
    if (this.ended || !this.stalled) return;
    if (!this.write(':\n')) return;
    // drained. One more write, with the buffer empty: in a standalone uWS experiment a response
    // drained by a write right after a writable event was still closed 10 s later unless another
    // write followed (sse.test.ts's drain-with-nothing-to-catch-up case passes either way here)
    this.write(':\n');
    this.hooks.onDrain(this);
  };

  /** the cursor: `r1:<hash>:<seq>,<seq>,…` */
  cursor(): string {
    return this.seqs.length === 1 ? this.cursorPrefix + this.seqs[0] : this.cursorPrefix + this.seqs.join(',');
  }

  /** ends the stream (the code and reason are the WebSocket's; an SSE client reconnects or not by the event before) */
  end(_code?: number, _reason?: RecognizedString): void {
    if (this.ended) return;
    this.ended = true;
    this.res.cork(() => {
      this.res.end();
    });
    this.hooks.onClose(this);
  }

  /** the client went away (uWS onAborted): the response must not be touched any more */
  aborted(): void {
    if (this.ended) return;
    this.ended = true;
    this.hooks.onClose(this);
  }

  private write(text: string): boolean {
    curRes = this.res;
    curText = text;
    this.res.cork(writeCur);
    curRes = undefined;
    this.lastWriteMs = Date.now();
    if (curOk) {
      this.buffered = 0;
      this.stalled = false;
      return true;
    }
    // unsent bytes: counted from the first write that found the buffer busy (an estimate: a write
    // inside a cork is reported sent and its remainder shows only at the next write)
    this.buffered += text.length;
    this.stalled = true;
    return false;
  }
}
