/**
 * The replica side of the gateway <-> replica link: one TCP connection per gateway, multiplexing
 * every doc that gateway subscribed to, with credit-based flow control.
 *
 * The gateway grants credit (data frames it is ready for); the replica sends snapshots and deltas
 * only within it and only while the socket's write buffer is below its high-water mark. Deltas
 * that cannot be sent wait in a per-doc backlog; a backlog over its bound collapses: the queued
 * deltas are dropped and the doc is marked for a fresh base, taken from the replica's current state
 * when credit returns. The gateway therefore sees a snapshot, never a gap, and the replica's memory
 * per link is bounded by (subscribed docs x backlog bound).
 *
 * With a cluster secret (CLUSTER_SECRET) a link serves nobody before the gateway has answered the
 * replica's challenge with the right MAC (@replicant/auth cluster-secret.ts): the first frame a
 * connection gets is the challenge (a random nonce, no document data); any other first frame, a
 * wrong proof, or no answer within `authTimeoutMs` ends the connection.
 *
 * Unauthenticated input is bounded so that it cannot hold memory or block the event loop
 * (DESIGN "Size bounds"): before its handshake completes a peer may send at most
 * PRE_AUTH_BYTES (4 KiB) within `authTimeoutMs` (5 s) — past either it is cut, its bytes never
 * reach the frame reader, and the socket stops being read; at most `maxPreAuthLinks` connections
 * wait for their handshake at once (a new one beyond that closes the OLDEST waiting one, so a
 * flood of idle connections cannot keep a gateway, whose handshake takes one round trip, out);
 * at most `maxLinks` authenticated links are served (beyond, refused with `unavailable`). Frame
 * reassembly is linear in the frame size (link-codec.ts).
 * A base (snapshot + history) fits the link frame bound by construction: the oldest history deltas
 * that would not fit are left out (fitBaseHistory), so the gateway bridges instead of losing the link.
 * A state that alone exceeds the bound is never sent: that doc gets LinkError{doc, doc_too_large}
 * (the gateway passes it to its subscribers as an `error` frame) and the link carries on.
 *
 * Deltas that waited are sent coalesced:
 * a run of a doc's queued ops goes out as one exactly composed delta (split only where merge patches
 * do not compose exactly), so a gateway that fell behind gets fewer, larger frames.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { defineMetrics } from '@replicant/stream';
import { linkProof, newNonce, proofMatches } from '@replicant/auth';
import { ErrorCode, isReservedDoc, longToSeq, seqToLong, type JsonObject } from '@replicant/protocol';
import { coalesceDeltas, deltaToLink, type Delta } from './delta.js';
import { encodeLinkFrame, LinkFrameError, LinkFrameReader, MAX_LINK_FRAME_BYTES, type LinkFrame } from './link-codec.js';
import type { Replica } from './replica.js';
import type { UpstreamListener } from './upstream.js';

export interface LinkServerOptions {
  host?: string;
  port?: number;
  /** deltas queued per doc on one link before it collapses into a snapshot (default 256) */
  maxBacklogPerDoc?: number;
  /** history deltas sent with a fresh base when the receiver has no usable lastSeq (default 64) */
  historyOnSubscribe?: number;
  /** stop writing while the socket holds this many unsent bytes (default 4 MiB) */
  highWaterBytes?: number;
  /** docs one link may subscribe to (default 1,000,000) */
  maxDocsPerLink?: number;
  maxFrameBytes?: number;
  /** a doc subscribed by more gateway links than this is hot (default 8) */
  hotThreshold?: number;
  /** how many replicas gateways spread a hot doc over (default 3) */
  hotSpread?: number;
  /** CLUSTER_SECRET: links must prove they hold it before anything is served ('' = open links) */
  clusterSecret?: string;
  /** time a new link has to complete the handshake (default 5 s) */
  authTimeoutMs?: number;
  /** send a doc's queued deltas as one exactly composed delta per run (FANOUT_COALESCE, default true) */
  coalesce?: boolean;
  /** bytes a peer may send before its handshake completes (default PRE_AUTH_BYTES, 4 KiB) */
  maxPreAuthBytes?: number;
  /** connections waiting for their handshake at once; a new one closes the oldest (default 256) */
  maxPreAuthLinks?: number;
  /** authenticated links served at once; more are refused (default 4096) */
  maxLinks?: number;
}

/** DESIGN "Size bounds": what a peer may send before its cluster handshake completes */
export const PRE_AUTH_BYTES = 4096;
/** connections waiting for their handshake at once (each holds at most PRE_AUTH_BYTES) */
export const MAX_PRE_AUTH_LINKS = 256;
/** authenticated gateway links served at once by one replica */
export const MAX_LINKS = 4096;

/** which links watch which doc, across the sessions of one server (hot-doc detection) */
class DocWatchers {
  private readonly metrics = linkMetrics();
  private readonly links = new Map<string, Set<LinkSession>>();
  /** hot docs -> the next slot to hand out (round-robin, so gateways divide evenly) */
  private readonly hot = new Map<string, number>();
  constructor(
    private readonly threshold: number,
    private readonly spread: number,
  ) {}

  add(doc: string, s: LinkSession): void {
    let set = this.links.get(doc);
    if (!set) this.links.set(doc, (set = new Set()));
    set.add(s);
    const next = this.hot.get(doc);
    if (next !== undefined) {
      s.sendHot(doc, this.spread, next % this.spread);
      this.hot.set(doc, next + 1);
    } else if (set.size > this.threshold) {
      this.metrics.hot.inc();
      let slot = 0;
      for (const x of set) x.sendHot(doc, this.spread, slot++ % this.spread);
      this.hot.set(doc, slot);
    }
  }

  remove(doc: string, s: LinkSession): void {
    const set = this.links.get(doc);
    if (!set || !set.delete(s) || set.size > 0) return;
    this.links.delete(doc);
    this.hot.delete(doc);
  }

  get hotDocs(): number {
    return this.hot.size;
  }
}

/** every live session in this process, for scrape-time gauges */
const allSessions = new Set<LinkSession>();

const linkMetrics = defineMetrics((m) => ({
  links: m.gauge({ name: 'replicant_fanout_links', help: 'Connected gateway links' }),
  refused: m.counter({ name: 'replicant_fanout_links_refused_total', help: 'Link connections refused by the cluster handshake' }),
  limited: m.counter({
    name: 'replicant_fanout_links_limited_total',
    help: 'Link connections closed by a bound: reason="pre_auth_bytes" (sent over 4 KiB before the handshake), "pre_auth_links" (too many waiting for their handshake; the oldest goes), "links" (over the link limit)',
    labelNames: ['reason'],
  }),
  collapses: m.counter({ name: 'replicant_fanout_backlog_collapses_total', help: 'Per-doc link backlogs collapsed into a snapshot' }),
  framesOut: m.counter({ name: 'replicant_fanout_link_frames_sent_total', help: 'Data frames sent on gateway links', labelNames: ['type'] }),
  hot: m.counter({ name: 'replicant_fanout_hot_docs_total', help: 'Docs that crossed the hot threshold (gateways told to spread them)' }),
  creditStalls: m.counter({
    name: 'replicant_fanout_link_credit_stalls_total',
    help: 'Times a gateway link ran out of credit with data waiting (the gateway is the bottleneck)',
  }),
  stalledLinks: m.gauge({
    name: 'replicant_fanout_links_stalled',
    help: 'Gateway links out of credit with data waiting, now',
    collect() {
      let n = 0;
      for (const s of allSessions) if (s.stalled) n++;
      this.set(n);
    },
  }),
  queued: m.gauge({
    name: 'replicant_fanout_link_queued_deltas',
    help: 'Deltas waiting for credit across all links',
    collect() {
      let q = 0;
      for (const s of allSessions) q += s.queued;
      this.set(q);
    },
  }),
}));

interface LinkDoc {
  /** send a base (snapshot + history) before any delta */
  needsBase: boolean;
  /** history after this seq is wanted with the next base (resume); undefined = none / collapse */
  baseFrom: bigint | undefined;
  /** a collapse: the next base carries no history */
  collapsed: boolean;
  backlog: Delta[];
  inReady: boolean;
}

export interface LinkStats {
  node: string;
  docs: number;
  credit: number;
  queuedDeltas: number;
  pendingBases: number;
  socketBuffered: number;
  collapses: number;
}

class LinkSession implements UpstreamListener {
  node = '';
  private readonly metrics = linkMetrics();
  /** out of credit with data waiting (counted once per stall) */
  stalled = false;
  private credit = 0;
  private readonly docs = new Map<string, LinkDoc>();
  private ready: string[] = [];
  private pumpScheduled = false;
  private closed = false;
  private queuedDeltas = 0;
  collapses = 0;
  private readonly reader: LinkFrameReader;
  /** the challenge sent; undefined once the gateway proved the secret (or no secret is set) */
  private challenge: Buffer | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  /** bytes received before the handshake completed (bounded by maxPreAuthBytes) */
  private preAuthBytes = 0;

  constructor(
    private readonly socket: Socket,
    private readonly replica: Replica,
    private readonly o: Required<LinkServerOptions>,
    private readonly watchers: DocWatchers,
    private readonly onClose: (s: LinkSession) => void,
    /** the handshake completed; false refuses the link (over the link limit) */
    private readonly onAuthenticated: (s: LinkSession) => boolean,
  ) {
    // before the handshake only an `auth` frame is valid: a larger length prefix is cut at once
    this.reader = new LinkFrameReader(o.clusterSecret !== '' ? o.maxPreAuthBytes - 4 : o.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      // nothing may throw out of a socket listener (it would end the process): any error drops this link only
      try {
        this.onData(chunk);
      } catch (err) {
        console.error(`replicant fanout: dropping link from gateway ${this.node || '(before hello)'}: ${(err as Error).message}`);
        if (!this.closed) this.fail('link error');
      }
    });
    socket.on('drain', () => this.schedulePump());
    socket.on('error', () => {});
    socket.on('close', () => this.close());
    if (o.clusterSecret !== '') {
      this.challenge = newNonce();
      socket.write(encodeLinkFrame({ challenge: { nonce: this.challenge } }));
      this.authTimer = setTimeout(() => this.refuse('no cluster handshake in time'), o.authTimeoutMs);
    }
  }

  /** checks the gateway's answer to the challenge; false when the link was refused */
  private authenticate(f: LinkFrame): boolean {
    const a = f.frame === 'auth' ? f.auth! : undefined;
    const gwNonce = a?.nonce;
    const challenge = this.challenge!;
    if (!a || !gwNonce || gwNonce.length < 16 || !proofMatches(linkProof(this.o.clusterSecret, 'gateway', challenge, gwNonce), a.proof)) {
      this.refuse('cluster authentication failed');
      return false;
    }
    this.challenge = undefined;
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    if (!this.onAuthenticated(this)) {
      this.metrics.limited.labels('links').inc();
      this.refuse(`this replica serves at most ${this.o.maxLinks} links`, 'unavailable', false);
      return false;
    }
    this.reader.maxFrameBytes = this.o.maxFrameBytes;
    this.socket.write(encodeLinkFrame({ authOk: { proof: linkProof(this.o.clusterSecret, 'replica', challenge, gwNonce) } }));
    return true;
  }

  /** still waiting for its handshake (counted against maxPreAuthLinks) */
  get preAuth(): boolean {
    return this.challenge !== undefined && !this.closed;
  }

  /** ends the connection with an error frame; nothing it sends from now on is read */
  refuse(message: string, code = 'unauthorized', countRefused = true): void {
    if (this.closed) return;
    if (countRefused) this.metrics.refused.inc();
    this.write(encodeLinkFrame({ error: { doc: '', code, message } }));
    // end() flushes the error and half-closes; destroying now could discard it (or reset the
    // connection over unread input). Reading stops (the peer's further bytes stay in the kernel's
    // bounded buffers and are never looked at); the socket is destroyed for good shortly after.
    this.socket.end();
    this.socket.pause();
    this.close(false);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  stats(): LinkStats {
    let pendingBases = 0;
    for (const d of this.docs.values()) if (d.needsBase) pendingBases++;
    return {
      node: this.node,
      docs: this.docs.size,
      credit: this.credit,
      queuedDeltas: this.queuedDeltas,
      pendingBases,
      socketBuffered: this.socket.writableLength,
      collapses: this.collapses,
    };
  }

  // ---- frames from the gateway ----

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.challenge !== undefined) {
      this.preAuthBytes += chunk.length;
      if (this.preAuthBytes > this.o.maxPreAuthBytes) {
        this.metrics.limited.labels('pre_auth_bytes').inc();
        this.refuse(`more than ${this.o.maxPreAuthBytes} bytes before the cluster handshake`);
        return;
      }
    }
    let frames: LinkFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(err instanceof LinkFrameError ? err.message : 'bad link frame');
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      if (this.challenge !== undefined) {
        if (!this.authenticate(f)) return;
        continue;
      }
      switch (f.frame) {
        case 'hello':
          this.node = f.hello!.nodeId ?? '';
          this.credit += f.hello!.window ?? 0;
          break;
        case 'credit':
          this.credit += f.credit!.n ?? 0;
          this.stalled = false;
          break;
        case 'subscribe':
          this.subscribe(f.subscribe!.doc ?? '', f.subscribe!.lastSeq == null ? undefined : longToSeq(f.subscribe!.lastSeq));
          break;
        case 'unsubscribe':
          this.unsubscribe(f.unsubscribe!.doc ?? '');
          break;
        default:
          this.fail(`unexpected link frame ${String(f.frame)} from a gateway`);
          return;
      }
    }
    this.schedulePump();
  }

  private subscribe(doc: string, lastSeq: bigint | undefined): void {
    if (this.docs.size >= this.o.maxDocsPerLink && !this.docs.has(doc)) {
      this.write(encodeLinkFrame({ error: { doc, code: 'too_many_subscriptions', message: `at most ${this.o.maxDocsPerLink} docs per link` } }));
      return;
    }
    let d = this.docs.get(doc);
    if (d) {
      this.queuedDeltas -= d.backlog.length;
      d.backlog = [];
    } else {
      d = { needsBase: true, baseFrom: lastSeq, collapsed: false, backlog: [], inReady: false };
      this.docs.set(doc, d);
      // may call onBase, or onError (not served here, shutting down), synchronously
      this.replica.subscribe(doc, this);
      // failed at once: onError answered the gateway and dropped the doc; nothing is left to watch
      if (this.docs.get(doc) !== d) return;
      this.watchers.add(doc, this);
    }
    d.needsBase = true;
    d.baseFrom = lastSeq;
    d.collapsed = false;
    this.markReady(doc, d);
  }

  private unsubscribe(doc: string): void {
    const d = this.docs.get(doc);
    if (!d) return;
    this.queuedDeltas -= d.backlog.length;
    this.docs.delete(doc);
    this.replica.unsubscribe(doc, this);
    this.watchers.remove(doc, this);
  }

  sendHot(doc: string, spread: number, slot: number): void {
    this.write(encodeLinkFrame({ hot: { doc, spread, slot } }));
  }

  // ---- UpstreamListener (from the replica) ----

  onBase(doc: string): void {
    const d = this.docs.get(doc);
    if (!d) return;
    // The base itself is read from the replica when it is sent, so it is always current.
    this.queuedDeltas -= d.backlog.length;
    d.backlog = [];
    d.needsBase = true;
    this.markReady(doc, d);
  }

  onDelta(delta: Delta): void {
    const d = this.docs.get(delta.doc);
    if (!d || d.needsBase) return; // a pending base is taken at send time and will include it
    if (d.backlog.length >= this.o.maxBacklogPerDoc) {
      this.queuedDeltas -= d.backlog.length;
      d.backlog = [];
      d.needsBase = true;
      d.collapsed = true;
      d.baseFrom = undefined;
      this.collapses++;
      this.metrics.collapses.inc();
      return;
    }
    d.backlog.push(delta);
    this.queuedDeltas++;
    this.markReady(delta.doc, d);
  }

  onError(doc: string, code: string, message: string): void {
    const d = this.docs.get(doc);
    if (!d) return;
    this.queuedDeltas -= d.backlog.length;
    this.docs.delete(doc);
    this.watchers.remove(doc, this);
    this.write(encodeLinkFrame({ error: { doc, code, message } }));
  }

  // ---- sending ----

  private markReady(doc: string, d: LinkDoc): void {
    if (!d.inReady) {
      d.inReady = true;
      this.ready.push(doc);
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(this.pump);
  }

  /** sends what credit and the socket allow, corked into as few writes as possible */
  private readonly pump = (): void => {
    this.pumpScheduled = false;
    if (this.closed) return;
    let sent = 0;
    this.socket.cork();
    let i = 0;
    const ready = this.ready;
    for (; i < ready.length; i++) {
      if (this.credit <= 0 || this.socket.writableLength >= this.o.highWaterBytes) break;
      const doc = ready[i];
      const d = this.docs.get(doc);
      if (!d) continue;
      if (d.needsBase) {
        const base = this.replica.base(doc, d.collapsed ? undefined : d.baseFrom, d.collapsed ? 0 : this.o.historyOnSubscribe);
        if (!base) {
          d.inReady = false; // still loading: onBase will mark it ready again
          continue;
        }
        const frame = encodeBase(doc, base.seq, base.state, base.history, this.o.maxFrameBytes);
        if (frame === undefined) {
          // the state alone exceeds the link frame bound: refuse this doc, keep the link (an
          // oversized frame would drop the whole link, re-route and repeat forever)
          this.socket.write(
            encodeLinkFrame({ error: { doc, code: ErrorCode.DocTooLarge, message: `document state exceeds the link frame bound of ${this.o.maxFrameBytes} bytes` } }),
          );
          this.metrics.framesOut.labels('error').inc();
          this.unsubscribe(doc);
          continue;
        }
        this.socket.write(frame);
        this.metrics.framesOut.labels('snapshot').inc();
        d.needsBase = false;
        d.collapsed = false;
        d.baseFrom = undefined;
        this.credit--;
        sent++;
      }
      // never for the control stream: each of its ops is one command (protocol/control.ts)
      if (this.o.coalesce && d.backlog.length > 1 && !isReservedDoc(doc)) {
        // several ops waited (credit or socket high-water): one frame per composable run
        const runs = coalesceDeltas(d.backlog)!;
        this.queuedDeltas -= d.backlog.length - runs.length;
        d.backlog = runs;
      }
      while (d.backlog.length > 0 && this.credit > 0) {
        this.socket.write(d.backlog.shift()!.linkFrame());
        this.queuedDeltas--;
        this.credit--;
        sent++;
      }
      if (d.backlog.length > 0) {
        // out of credit mid-doc: keep its place at the front
        break;
      }
      d.inReady = false;
    }
    this.ready = i === 0 ? ready : ready.slice(i);
    this.socket.uncork();
    if (this.credit <= 0 && this.ready.length > 0 && !this.stalled) {
      this.stalled = true;
      this.metrics.creditStalls.inc();
    }
    if (sent > 0) this.metrics.framesOut.labels('delta').inc(sent);
  };

  private write(buf: Buffer): void {
    if (!this.closed) this.socket.write(buf);
  }

  private fail(message: string): void {
    this.write(encodeLinkFrame({ error: { doc: '', code: 'bad_frame', message } }));
    this.socket.end();
    this.close();
  }

  close(destroy = true): void {
    if (this.closed) return;
    this.closed = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    for (const doc of this.docs.keys()) {
      this.replica.unsubscribe(doc, this);
      this.watchers.remove(doc, this);
    }
    this.docs.clear();
    this.queuedDeltas = 0;
    if (destroy) this.socket.destroy();
    this.onClose(this);
  }

  get queued(): number {
    return this.queuedDeltas;
  }
}

/** protobuf bytes a LinkDelta of `d` adds to a LinkSnapshot, at most (tags, lengths, varints) */
function linkDeltaBytes(d: Delta): number {
  return Buffer.byteLength(d.patch) + Buffer.byteLength(d.doc) + 64;
}

/**
 * The newest deltas of `history` that fit, with a state of `stateBytes`, in a link frame of at most
 * `maxFrameBytes` (the bound the gateway's reader enforces). Older ones are left out: the base then
 * does not reach back to the gateway's seq and the gateway bridges (or snapshots) as for any base
 * ahead of it, instead of the frame dropping the link on every re-route.
 */
export function fitBaseHistory(doc: string, stateBytes: number, history: readonly Delta[], maxFrameBytes: number): readonly Delta[] {
  let room = maxFrameBytes - stateBytes - Buffer.byteLength(doc) - 64;
  let i = history.length;
  while (i > 0) {
    const need = linkDeltaBytes(history[i - 1]);
    if (need > room) break;
    room -= need;
    i--;
  }
  return i === 0 ? history : history.slice(i);
}

/** the base frame, or undefined when the state alone cannot fit in a link frame */
function encodeBase(doc: string, seq: bigint, state: JsonObject, history: Delta[], maxFrameBytes: number): Buffer | undefined {
  const stateBytes = Buffer.from(JSON.stringify(state));
  if (stateBytes.length + Buffer.byteLength(doc) + 64 > maxFrameBytes) return undefined;
  const fitted = fitBaseHistory(doc, stateBytes.length, history, maxFrameBytes);
  return encodeLinkFrame({ snapshot: { doc, seq: seqToLong(seq), state: stateBytes, history: fitted.map(deltaToLink) } });
}

export class LinkServer {
  private readonly metrics = linkMetrics();
  private server: Server | undefined;
  private readonly sessions = new Set<LinkSession>();
  /** sessions waiting for their handshake, oldest first */
  private readonly preAuth = new Set<LinkSession>();
  private readonly o: Required<LinkServerOptions>;
  private readonly watchers: DocWatchers;

  constructor(
    private readonly replica: Replica,
    opts: LinkServerOptions = {},
  ) {
    this.o = {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      maxBacklogPerDoc: opts.maxBacklogPerDoc ?? 256,
      historyOnSubscribe: opts.historyOnSubscribe ?? 64,
      highWaterBytes: opts.highWaterBytes ?? 4 * 1024 * 1024,
      maxDocsPerLink: opts.maxDocsPerLink ?? 1_000_000,
      maxFrameBytes: opts.maxFrameBytes ?? MAX_LINK_FRAME_BYTES,
      hotThreshold: opts.hotThreshold ?? 8,
      hotSpread: opts.hotSpread ?? 3,
      clusterSecret: opts.clusterSecret ?? '',
      authTimeoutMs: opts.authTimeoutMs ?? 5000,
      coalesce: opts.coalesce ?? true,
      maxPreAuthBytes: opts.maxPreAuthBytes ?? PRE_AUTH_BYTES,
      maxPreAuthLinks: opts.maxPreAuthLinks ?? MAX_PRE_AUTH_LINKS,
      maxLinks: opts.maxLinks ?? MAX_LINKS,
    };
    this.watchers = new DocWatchers(this.o.hotThreshold, this.o.hotSpread);
  }

  /** starts listening; resolves with the bound port */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => {
        this.server = server;
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : this.o.port);
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.o.clusterSecret === '') {
      // open links (no secret): served at once, so the link limit applies now
      if (this.sessions.size >= this.o.maxLinks) {
        this.metrics.limited.labels('links').inc();
        socket.on('error', () => {});
        socket.end(encodeLinkFrame({ error: { doc: '', code: 'unavailable', message: `this replica serves at most ${this.o.maxLinks} links` } }));
        socket.pause();
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
    } else if (this.preAuth.size >= this.o.maxPreAuthLinks) {
      // the oldest waiting connection goes: a gateway's handshake takes one round trip, so a flood
      // of idle connections churns through the slots without keeping gateways out
      const oldest = this.preAuth.values().next().value!;
      this.metrics.limited.labels('pre_auth_links').inc();
      oldest.refuse(`more than ${this.o.maxPreAuthLinks} links waiting for the cluster handshake`, 'unavailable', false);
    }
    const s = new LinkSession(
      socket,
      this.replica,
      this.o,
      this.watchers,
      (x) => {
        this.sessions.delete(x);
        this.preAuth.delete(x);
        allSessions.delete(x);
        this.metrics.links.dec();
      },
      (x) => {
        this.preAuth.delete(x);
        return this.sessions.size - this.preAuth.size <= this.o.maxLinks;
      },
    );
    this.sessions.add(s);
    if (s.preAuth) this.preAuth.add(s);
    allSessions.add(s);
    this.metrics.links.inc();
  }

  stats(): LinkStats[] {
    return [...this.sessions].map((s) => s.stats());
  }

  /** connections open now, and how many of them still wait for their handshake */
  connections(): { links: number; preAuth: number } {
    return { links: this.sessions.size, preAuth: this.preAuth.size };
  }

  get hotDocs(): number {
    return this.watchers.hotDocs;
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
