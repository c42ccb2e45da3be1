/**
 * The gateway side of the replica tier in cluster mode: an Upstream that routes each doc to a
 * replica by rendezvous hashing over the healthy replicas serving the doc's partition (from the
 * registry), keeps one multiplexed link per replica, grants credit as it consumes frames, and
 * re-routes on replica loss (link closed, or gone from the registry) resuming from the last seq
 * it delivered — the listener (LocalFanout) turns the new base into exactly the missing deltas, or
 * waits when the new replica is behind, so no gap and no duplicate reaches a client.
 *
 * With CLUSTER_SECRET every link starts with the challenge-response of @replicant/auth
 * (cluster-secret.ts): nothing but the handshake is sent until the replica proved it holds the
 * secret too; frames meanwhile wait in `pending` (at most one per routed doc plus the hello and
 * a credit grant, for at most LINK_AUTH_TIMEOUT_MS, after which the link is dropped and re-routed).
 * Until the replica proved the secret it may send at most PRE_AUTH_BYTES (4 KiB), as the replica
 * allows a gateway; frame reassembly is linear in the frame size (LinkFrameReader).
 * Link frames are checked like client input: a patch or state over the protocol's depth bound, or
 * unparsable, drops the link instead of reaching the local fan-out.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { defineMetrics, partitionForKey } from '@replicant/stream';
import { linkProof, newNonce, proofMatches } from '@replicant/auth';
import { longToSeq, parsePatch, ProtocolError, seqToLong } from '@replicant/protocol';
import {
  deltaFromLink,
  encodeLinkFrame,
  LinkFrameError,
  LinkFrameReader,
  MAX_LINK_FRAME_BYTES,
  PRE_AUTH_BYTES,
  pickReplicas,
  type LinkFrame,
  type Registry,
  type ReplicaInfo,
  type Upstream,
  type UpstreamListener,
} from '@replicant/fanout';

export interface RemoteUpstreamOptions {
  registry: Registry;
  nodeId: string;
  /** stream-log partition count (maps doc -> partition; must match the topic) */
  partitions: number;
  /** credit window per link, in data frames (default 4096) */
  window?: number;
  /** a replica whose link failed is avoided this long unless it is the only one (default 5 s) */
  downCooldownMs?: number;
  /** retry interval for docs that have no replica (default 250 ms) */
  retryMs?: number;
  /** CLUSTER_SECRET: authenticate every link (the replicas must have the same secret) */
  clusterSecret?: string;
}

/** a link whose cluster handshake has not completed in this time is dropped */
export const LINK_AUTH_TIMEOUT_MS = 5000;

const upstreamMetrics = defineMetrics((m) => ({
  links: m.gauge({ name: 'replicant_gateway_upstream_links', help: 'Open links to fanout replicas' }),
  reroutes: m.counter({ name: 'replicant_gateway_upstream_reroutes_total', help: 'Docs moved to another replica', labelNames: ['reason'] }),
  unrouted: m.gauge({ name: 'replicant_gateway_upstream_unrouted_docs', help: 'Docs waiting for a replica' }),
}));

interface DocRoute {
  doc: string;
  listener: UpstreamListener;
  link: Link | undefined;
  /** last seq handed to the listener (resume point on re-route) */
  seq: bigint | undefined;
  /** set when routing was deferred to the retry timer */
  retrying?: boolean;
  /** > 1 once a replica reported the doc hot: spread over that many replicas */
  spread: number;
  /** which of the `spread` best replicas this gateway takes (assigned by the replica) */
  slot: number;
}

class Link {
  private readonly metrics = upstreamMetrics();
  readonly docs = new Set<string>();
  private readonly socket: Socket;
  private readonly reader = new LinkFrameReader();
  /** bytes the replica sent before it proved the secret (at most PRE_AUTH_BYTES) */
  private preAuthBytes = 0;
  private consumed = 0;
  private grantScheduled = false;
  /** frames held until the cluster handshake completes (undefined once authenticated / no secret) */
  private pending: Buffer[] | undefined;
  private gatewayNonce: Buffer | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  open = false;
  closed = false;

  constructor(
    readonly replica: ReplicaInfo,
    private readonly owner: RemoteUpstream,
    nodeId: string,
    window: number,
    private readonly secret: string | undefined,
  ) {
    const i = replica.address.lastIndexOf(':');
    this.socket = netConnect({ host: replica.address.slice(0, i), port: Number(replica.address.slice(i + 1)) });
    this.socket.setNoDelay(true);
    if (secret !== undefined) {
      this.pending = [];
      this.reader.maxFrameBytes = PRE_AUTH_BYTES - 4;
      this.authTimer = setTimeout(() => {
        console.error(`replicant gateway: link to replica ${replica.id} (${replica.address}) did not complete the cluster handshake`);
        this.socket.destroy();
      }, LINK_AUTH_TIMEOUT_MS);
    }
    // Writes made before the connection is up are buffered by the socket and flushed on connect.
    this.send(encodeLinkFrame({ hello: { nodeId, window } }));
    this.socket.on('connect', () => {
      this.open = true;
      this.metrics.links.inc();
    });
    this.socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      try {
        if (this.pending !== undefined && (this.preAuthBytes += chunk.length) > PRE_AUTH_BYTES) {
          throw new LinkFrameError(`more than ${PRE_AUTH_BYTES} bytes before the cluster handshake`);
        }
        for (const f of this.reader.push(chunk)) {
          if (this.pending !== undefined || f.frame === 'challenge') this.handshake(f);
          else this.owner.onFrame(this, f);
          if (this.closed) return;
        }
      } catch (err) {
        // an undecodable frame, a patch/state over the protocol's bounds, or any other error while
        // handling a frame: drop this link (it re-routes); nothing may throw out of a socket listener
        const why = err instanceof LinkFrameError ? err.message : `error handling a link frame: ${(err as Error).message}`;
        console.error(`replicant gateway: dropping link to replica ${replica.id}: ${why}`);
        this.closed = true; // nothing more is read; 'close' follows
        this.socket.destroy();
      }
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      if (this.authTimer) clearTimeout(this.authTimer);
      if (this.open) this.metrics.links.dec();
      this.open = false;
      this.closed = true;
      this.owner.onLinkDown(this);
    });
  }

  /** the cluster handshake, before any other frame is accepted from the replica */
  private handshake(f: LinkFrame): void {
    if (this.secret === undefined || this.pending === undefined) {
      throw new LinkFrameError(f.frame === 'challenge' ? 'replica requires CLUSTER_SECRET, which this gateway has none of' : 'unexpected handshake frame');
    }
    if (f.frame === 'challenge' && this.gatewayNonce === undefined) {
      this.gatewayNonce = newNonce();
      const replicaNonce = f.challenge!.nonce ?? new Uint8Array(0);
      this.expectedReplicaProof = linkProof(this.secret, 'replica', replicaNonce, this.gatewayNonce);
      this.socket.write(encodeLinkFrame({ auth: { nonce: this.gatewayNonce, proof: linkProof(this.secret, 'gateway', replicaNonce, this.gatewayNonce) } }));
      return;
    }
    if (f.frame === 'authOk' && this.expectedReplicaProof && proofMatches(this.expectedReplicaProof, f.authOk!.proof)) {
      clearTimeout(this.authTimer);
      this.authTimer = undefined;
      const held = this.pending;
      this.pending = undefined;
      this.reader.maxFrameBytes = MAX_LINK_FRAME_BYTES;
      this.socket.cork();
      for (const b of held) this.socket.write(b);
      this.socket.uncork();
      return;
    }
    throw new LinkFrameError(f.frame === 'error' ? `replica refused the link: ${f.error!.message ?? ''}` : 'replica failed the cluster handshake');
  }

  private expectedReplicaProof: Buffer | undefined;

  private send(b: Buffer): void {
    if (this.pending !== undefined) this.pending.push(b);
    else this.socket.write(b);
  }

  subscribe(doc: string, lastSeq: bigint | undefined): void {
    this.docs.add(doc);
    this.send(
      encodeLinkFrame({ subscribe: lastSeq === undefined ? { doc } : { doc, lastSeq: seqToLong(lastSeq) } }),
    );
  }

  unsubscribe(doc: string): void {
    if (!this.docs.delete(doc) || this.closed) return;
    this.send(encodeLinkFrame({ unsubscribe: { doc } }));
  }

  /** one data frame consumed: its credit goes back, batched per event-loop turn */
  consumedOne(): void {
    this.consumed++;
    if (!this.grantScheduled) {
      this.grantScheduled = true;
      setImmediate(this.grant);
    }
  }

  private readonly grant = (): void => {
    this.grantScheduled = false;
    if (this.closed || this.owner.creditPaused || this.consumed === 0) return;
    const n = this.consumed;
    this.consumed = 0;
    this.send(encodeLinkFrame({ credit: { n } }));
  };

  resumeCredit(): void {
    this.grant();
  }

  close(): void {
    this.socket.destroy();
  }
}

export class RemoteUpstream implements Upstream {
  private readonly metrics = upstreamMetrics();
  private readonly docs = new Map<string, DocRoute>();
  private readonly links = new Map<string, Link>();
  private readonly down = new Map<string, number>(); // replica id -> avoid until (ms)
  private readonly unrouted = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly offChange: () => void;
  private readonly window: number;
  private readonly cooldown: number;
  private readonly retryMs: number;
  private closed = false;
  /** test/operations hook: stop returning credit (replicas then collapse this gateway's backlogs) */
  creditPaused = false;

  constructor(private readonly o: RemoteUpstreamOptions) {
    this.window = o.window ?? 4096;
    this.cooldown = o.downCooldownMs ?? 5000;
    this.retryMs = o.retryMs ?? 250;
    this.offChange = o.registry.onChange(() => this.rebalance('membership'));
  }

  subscribe(doc: string, listener: UpstreamListener): void {
    if (this.docs.has(doc)) return;
    const r: DocRoute = { doc, listener, link: undefined, seq: undefined, spread: 1, slot: 0 };
    this.docs.set(doc, r);
    try {
      this.route(r);
    } catch (err) {
      // e.g. a registry entry whose address cannot be connected to: nothing of the doc stays
      this.docs.delete(doc);
      this.unrouted.delete(doc);
      r.link?.unsubscribe(doc);
      throw err;
    }
  }

  unsubscribe(doc: string, listener: UpstreamListener): void {
    const r = this.docs.get(doc);
    if (!r || r.listener !== listener) return;
    this.docs.delete(doc);
    this.unrouted.delete(doc);
    r.link?.unsubscribe(doc);
  }

  pauseCredit(): void {
    this.creditPaused = true;
  }

  resumeCredit(): void {
    this.creditPaused = false;
    for (const l of this.links.values()) l.resumeCredit();
  }

  stats(): { docs: number; links: { replica: string; docs: number; open: boolean }[]; unrouted: number } {
    return {
      docs: this.docs.size,
      links: [...this.links.values()].map((l) => ({ replica: l.replica.id, docs: l.docs.size, open: l.open })),
      unrouted: this.unrouted.size,
    };
  }

  /** where a doc is served now (tests, admin) */
  routeOf(doc: string): string | undefined {
    return this.docs.get(doc)?.link?.replica.id;
  }

  close(): void {
    this.closed = true;
    this.offChange();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }

  // ---- routing ----

  /**
   * The replica a doc belongs on: rendezvous over the healthy replicas serving its partition. A
   * hot doc uses the `spread` best ones, this gateway taking the slot the replica assigned it, so
   * the gateways watching it divide evenly among several replicas.
   */
  private best(r: DocRoute): { info: ReplicaInfo | undefined; cooling: boolean } {
    const p = partitionForKey(r.doc, this.o.partitions);
    const now = Date.now();
    const serving = this.o.registry.list().filter((x) => x.partitions.includes(p));
    const healthy = serving.filter((x) => (this.down.get(x.id) ?? 0) <= now);
    const pool = healthy.length > 0 ? healthy : serving;
    const top = pickReplicas(r.doc, pool, Math.max(1, r.spread));
    const info = top.length <= 1 ? top[0] : top[r.slot % top.length];
    // only replicas whose link just failed: retry them, but at the retry pace
    return { info, cooling: healthy.length === 0 && serving.length > 0 };
  }

  private linkFor(info: ReplicaInfo): Link {
    let l = this.links.get(info.id);
    if (!l || l.closed || l.replica.address !== info.address) {
      l?.close();
      l = new Link(info, this, this.o.nodeId, this.window, this.o.clusterSecret);
      this.links.set(info.id, l);
    }
    return l;
  }

  private route(r: DocRoute): void {
    if (this.closed) return;
    const { info, cooling } = this.best(r);
    if (!info || (cooling && !r.retrying)) {
      r.retrying = true;
      this.unrouted.add(r.doc);
      this.metrics.unrouted.set(this.unrouted.size);
      this.scheduleRetry();
      return;
    }
    r.retrying = false;
    this.unrouted.delete(r.doc);
    this.metrics.unrouted.set(this.unrouted.size);
    r.link = this.linkFor(info);
    r.link.subscribe(r.doc, r.seq);
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (const doc of [...this.unrouted]) {
        const r = this.docs.get(doc);
        if (r && !r.link) this.route(r);
      }
    }, this.retryMs);
  }

  /** membership changed: move docs whose best replica changed (make-before-break) */
  private rebalance(reason: string): void {
    if (this.closed) return;
    const live = new Set(this.o.registry.list().map((r) => r.id));
    for (const [id, l] of this.links) {
      if (!live.has(id)) {
        l.close(); // its docs are re-routed by onLinkDown
      }
    }
    for (const r of this.docs.values()) {
      if (!r.link) this.route(r);
      else this.moveIfNeeded(r, reason);
    }
  }

  /** make-before-break move of a routed doc to its current best replica */
  private moveIfNeeded(r: DocRoute, reason: string): void {
    const { info, cooling } = this.best(r);
    if (!info || cooling || !r.link || info.id === r.link.replica.id) return;
    const old = r.link;
    r.link = this.linkFor(info);
    r.link.subscribe(r.doc, r.seq);
    old.unsubscribe(r.doc);
    this.metrics.reroutes.labels(reason).inc();
  }

  onLinkDown(link: Link): void {
    if (this.links.get(link.replica.id) === link) this.links.delete(link.replica.id);
    if (this.closed) return;
    this.down.set(link.replica.id, Date.now() + this.cooldown);
    for (const doc of link.docs) {
      const r = this.docs.get(doc);
      if (!r || r.link !== link) continue;
      r.link = undefined;
      this.metrics.reroutes.labels('link_lost').inc();
      this.route(r);
    }
    link.docs.clear();
  }

  onFrame(link: Link, f: LinkFrame): void {
    switch (f.frame) {
      case 'snapshot': {
        link.consumedOne();
        const s = f.snapshot!;
        const r = this.docs.get(s.doc!);
        if (!r || r.link !== link) return; // a stale route: that doc moved
        const seq = longToSeq(s.seq);
        // a state is a fold of bounded patches, so the patch bound applies to it as well
        const state = parsePatch(Buffer.from(s.state!).toString('utf8'));
        if (state instanceof ProtocolError) throw new LinkFrameError(`snapshot of ${r.doc}: ${state.message}`);
        const history = (s.history ?? []).map(deltaFromLink);
        if (r.seq === undefined || seq > r.seq) r.seq = seq;
        r.listener.onBase(r.doc, seq, state, history);
        return;
      }
      case 'delta': {
        link.consumedOne();
        const d = f.delta!;
        const r = this.docs.get(d.doc!);
        if (!r || r.link !== link) return;
        const delta = deltaFromLink(d);
        if (r.seq !== undefined && delta.seq <= r.seq) return; // already delivered (resume overlap)
        r.seq = delta.seq;
        r.listener.onDelta(delta);
        return;
      }
      case 'hot': {
        const h = f.hot!;
        const r = this.docs.get(h.doc ?? '');
        if (!r || r.link !== link || (h.spread ?? 1) <= r.spread) return;
        r.spread = h.spread ?? 1;
        r.slot = h.slot ?? 0;
        this.moveIfNeeded(r, 'hot');
        return;
      }
      case 'error': {
        const e = f.error!;
        const r = this.docs.get(e.doc ?? '');
        if (!r || r.link !== link) return;
        if (e.code === 'unavailable') {
          // this replica cannot serve the doc right now: try another one
          link.unsubscribe(r.doc);
          this.down.set(link.replica.id, Date.now() + this.cooldown);
          r.link = undefined;
          this.route(r);
          return;
        }
        this.docs.delete(r.doc);
        r.listener.onError(r.doc, e.code ?? 'internal', e.message ?? 'replica error');
        return;
      }
    }
  }
}
