/**
 * Cluster mode: `replicant origin`, `replicant fanout` and `replicant gateway` as separate
 * processes, configured only through env (DESIGN contracts plus the documented extensions).
 * Backends (Kafka, Redis) that are unreachable at start are retried with backoff while the admin
 * listener answers /readyz with 503, and every retry says which brokers / topic / Redis URL.
 */
import { hostname } from 'node:os';
import * as uWS from 'uWebSockets.js';
import { KafkaLog, KafkaAuthError, RedisAuthError, RedisLayoutError, RedisConnectionDirectory, RedisNodeDirectory, RedisPresenceRelay, RedisSnapshotStore, describeRedis, MAX_PUBLISHED_PER_GATEWAY, type NodeInfo } from '@replicant/stream';
import { Ingest, Origin, PresenceAggregator, registerOriginHttp, registerPresenceHttp, registerServerApi, RevocationView } from '@replicant/origin';
import { Backoff } from '@replicant/protocol';
import { HistoryBudget, LinkServer, RedisRegistry, Replica } from '@replicant/fanout';
import { Gateway, OriginClient, RemoteUpstream, registerDocsHttp } from '@replicant/gateway';
import { ConfigError, ingestBrokersOf, kafkaSecurity, redisTarget, redisWaitReplicas, servedPartitions, type Config } from './config.js';
import { registerAdmin, type AdminHooks } from './admin.js';
import { httpAuthenticator, isTls, makeApp, warnIfOpen } from './security.js';
import { gatewayOptions } from './gateway-options.js';
import { listen, listenAdmin, onShutdown, type Listening } from './server.js';
import { registerConsole } from './console.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** opens a backend, retrying with capped exponential backoff and a clear message per failure */
async function openWithRetry<T>(mode: string, what: string, open: () => Promise<T>): Promise<T> {
  const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 'none' });
  for (;;) {
    try {
      return await open();
    } catch (err) {
      // wrong credentials or an old Redis layout: retrying cannot help; one line and exit 2 (the messages name no secret)
      if (err instanceof KafkaAuthError || err instanceof RedisAuthError || err instanceof RedisLayoutError) throw new ConfigError(err.message);
      const delay = backoff.next();
      console.error(`replicant ${mode}: ${what} unavailable (${(err as Error).message}); retrying in ${delay} ms`);
      await sleep(delay);
    }
  }
}

function kafkaWhat(cfg: Config): string {
  return `Kafka (brokers ${cfg.kafkaBrokers.join(',')}, topic ${cfg.kafkaTopic})`;
}

/**
 * Opens the Kafka log. The origin also provisions the topic when it is missing (PARTITIONS
 * partitions, replication factor min(3, brokers)); replicas only wait for it.
 */
async function openKafka(cfg: Config, clientId: string, opts: { createTopic?: boolean } = {}): Promise<KafkaLog> {
  return openWithRetry(cfg.mode, kafkaWhat(cfg), () =>
    KafkaLog.open({
      brokers: cfg.kafkaBrokers,
      security: kafkaSecurity(cfg),
      topic: cfg.kafkaTopic,
      clientId,
      idempotent: cfg.kafkaIdempotent,
      fetchMaxWaitMs: cfg.kafkaFetchMaxWaitMs,
      compression: cfg.kafkaCompression,
      retry: { retries: cfg.kafkaRetries, initialRetryTime: 300, maxRetryTime: 30_000 },
      // the read barrier gives a round up after READ_BARRIER_TIMEOUT_MS: an end-offset call need not outlive it
      endOffsetRetryMs: cfg.readBarrierTimeoutMs,
      createTopic: opts.createTopic
        ? {
            partitions: cfg.partitions,
            minInsyncReplicas: cfg.kafkaMinInsyncReplicas,
            retentionBytes: cfg.logRetentionBytes,
            retentionMs: cfg.logRetentionMs,
          }
        : undefined,
    }),
  );
}

/** how long one attempt to reach Redis at start may take before it is logged and retried */
const REDIS_CONNECT_TIMEOUT_MS = 3000;

async function openRedisStore(cfg: Config): Promise<RedisSnapshotStore> {
  const { url, ...target } = redisTarget(cfg);
  return openWithRetry(cfg.mode, `Redis ${describeRedis(redisTarget(cfg))}`, () =>
    RedisSnapshotStore.open({ url, target, topic: cfg.kafkaTopic, connectTimeoutMs: REDIS_CONNECT_TIMEOUT_MS, waitReplicas: redisWaitReplicas(cfg) }),
  );
}

async function openRegistry(cfg: Config): Promise<RedisRegistry> {
  const { url, ...target } = redisTarget(cfg);
  return openWithRetry(cfg.mode, `Redis registry ${describeRedis(redisTarget(cfg))}`, async () => {
    const r = new RedisRegistry({ url, target, ttlMs: cfg.registryTtlMs });
    try {
      await r.start();
    } catch (err) {
      await r.close().catch(() => {});
      throw err;
    }
    return r;
  });
}

function announce(cfg: Config, port: number, extra: string): void {
  console.log(`replicant ${cfg.mode} ${cfg.nodeId} ready on ${cfg.host}:${port} (${extra})`);
}

/** INGEST_TOPICS (docs/ingest.md): the origin consumes them into documents; undefined when none */
export function startIngest(cfg: Config, origin: Origin): Ingest | undefined {
  if (cfg.ingestTopics.length === 0) return undefined;
  return Ingest.start({
    origin,
    brokers: ingestBrokersOf(cfg),
    topics: cfg.ingestTopics,
    maxDocBytes: cfg.maxDocBytes,
    clientId: `replicant-ingest-${cfg.nodeId}`,
    // the ingest cluster is reached with the Kafka settings of the role (KAFKA_SSL*, KAFKA_SASL_*)
    security: kafkaSecurity(cfg),
  });
}

// ---------------------------------------------------------------------------------------------

export async function runOrigin(cfg: Config): Promise<void> {
  // backends are filled in once open; /readyz on ADMIN_PORT answers 503 until then
  const b: { ready: boolean; log?: KafkaLog; store?: RedisSnapshotStore; origin?: Origin } = { ready: false };
  const hooks: AdminHooks = {
    ready: () => b.ready && (b.log?.ready ?? false) && (b.store?.ready ?? false) && !(b.origin?.isRebuilding ?? false),
  };
  const nodes = new RedisNodeDirectory({ url: cfg.redisUrl!, target: redisTarget(cfg), namespace: cfg.kafkaTopic });
  const admin = await listenAdmin(cfg.host, cfg.adminPort, hooks, (a) => {
    const stats = () => ({ node: cfg.nodeId, role: 'origin' });
    a.get('/stats', (res) => {
      res.writeHeader('Content-Type', 'application/json').end(JSON.stringify(stats()));
    });
    registerConsole(a, { auth: httpAuthenticator(cfg), source: { nodes: () => nodes.list(), self: { id: cfg.nodeId, stats, ready: hooks.ready } } });
  });
  const log = (b.log = await openKafka(cfg, `replicant-origin-${cfg.nodeId}`, { createTopic: true }));
  const store = (b.store = await openRedisStore(cfg));
  const origin = (b.origin = await Origin.start({
    log,
    store,
    checkpointIntervalMs: cfg.checkpointIntervalMs,
    maxInflightWrites: cfg.maxInflightWrites,
    readBarrierTimeoutMs: cfg.readBarrierTimeoutMs,
    maxDocBytes: cfg.maxDocBytes,
  }));
  const app = makeApp(cfg);
  const revocations = new RevocationView(origin);
  registerOriginHttp(app, origin, { maxBodyBytes: cfg.maxBodyBytes, auth: httpAuthenticator(cfg), clusterSecret: cfg.clusterSecret, revoked: (p) => revocations.isRevoked(p), views: cfg.viewsFile });
  // GET /v1/connections reads what the gateways publish into Redis
  const directory = new RedisConnectionDirectory({ url: cfg.redisUrl!, target: redisTarget(cfg), namespace: cfg.kafkaTopic });
  registerServerApi(app, origin, { auth: httpAuthenticator(cfg), revocations, directory });
  // presence: gateways report their members to any origin (cluster-signed); the origin holding the
  // presence lease in Redis aggregates them and writes d~presence, the others relay to it
  const presence = await RedisPresenceRelay.open({
    url: cfg.redisUrl!,
    target: redisTarget(cfg),
    namespace: cfg.kafkaTopic,
    originId: cfg.nodeId,
    leaseMs: Math.max(1000, Math.floor(cfg.presenceTtlMs / 2)),
    lead: (epoch, leaseValid) =>
      new PresenceAggregator(origin, { maxUsers: cfg.presenceMaxUsers, intervalMs: cfg.presenceIntervalMs, ttlMs: cfg.presenceTtlMs, boot: epoch, active: leaseValid }),
  });
  registerPresenceHttp(app, presence, cfg.clusterSecret);
  // with an ADMIN_PORT, metrics stay off the public port (admin.ts)
  registerAdmin(app, hooks, { metrics: cfg.adminPort === 0 });
  notFound(app);
  const main = await listen(app, cfg.host, cfg.port);
  const ingest = startIngest(cfg, origin);
  const stopAnnouncing = await announceNode(cfg, nodes, 'origin', admin?.port, main.port);
  b.ready = true;
  warnIfOpen(cfg);
  announce(cfg, main.port, `${kafkaWhat(cfg)}, Redis ${describeRedis(redisTarget(cfg))}`);
  onShutdown(async () => {
    b.ready = false;
    await stopAnnouncing();
    main.close();
    admin?.close();
    directory.close();
    await presence.close();
    await ingest?.close();
    await origin.close();
  });
}

// ---------------------------------------------------------------------------------------------

export async function runFanout(cfg: Config): Promise<void> {
  const b: { ready: boolean; replica?: Replica; links?: LinkServer } = { ready: false };
  const hooks: AdminHooks = { ready: () => b.ready };
  const adminApp = uWS.App();
  registerAdmin(adminApp, hooks);
  // ?lag=1 (the console) adds the replica's lag: one end-offset read per served partition
  const fanoutStats = async (withLag: boolean) => {
    let lag: number | undefined;
    if (withLag && b.replica) {
      lag = 0;
      for (const v of (await b.replica.lag()).values()) lag += Number(v);
    }
    return { node: cfg.nodeId, role: 'fanout', replica: b.replica?.stats() ?? null, links: b.links?.stats() ?? [], ...(lag === undefined ? {} : { lag }) };
  };
  adminApp.get('/stats', (res, req) => {
    const withLag = req.getQuery('lag') === '1';
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    void fanoutStats(withLag)
      .catch(() => fanoutStats(false))
      .then((s) => {
        if (!aborted) res.cork(() => res.writeHeader('Content-Type', 'application/json').end(JSON.stringify(s)));
      });
  });
  const nodes = new RedisNodeDirectory({ url: cfg.redisUrl!, target: redisTarget(cfg), namespace: cfg.kafkaTopic });
  registerConsole(adminApp, { auth: httpAuthenticator(cfg), source: { nodes: () => nodes.list(), self: { id: cfg.nodeId, stats: () => fanoutStats(true), ready: hooks.ready } } });
  notFound(adminApp);
  const admin = cfg.adminPort === 0 ? undefined : await listen(adminApp, cfg.host, cfg.adminPort);

  const log = await openKafka(cfg, `replicant-fanout-${cfg.nodeId}`);
  const store = await openRedisStore(cfg);
  const registry = await openRegistry(cfg);
  const partitions = servedPartitions(cfg, log.partitions);
  const replica = (b.replica = await Replica.start({
    log,
    store,
    partitions,
    historySize: cfg.historySize,
    historyBytes: cfg.historyBytes,
    historyBudget: new HistoryBudget(cfg.historyBudgetBytes),
  }));
  const links = (b.links = new LinkServer(replica, {
    host: cfg.host,
    port: cfg.port,
    maxBacklogPerDoc: cfg.linkBacklog,
    hotThreshold: cfg.hotDocGateways,
    hotSpread: cfg.hotDocSpread,
    clusterSecret: cfg.clusterSecret,
    coalesce: cfg.fanoutCoalesce,
  }));
  const port = await links.listen();
  const address = cfg.advertiseAddress ?? `${cfg.host}:${port}`;
  const info = () => ({
    id: cfg.nodeId,
    address,
    partitions,
    partitionCount: log.partitions,
    load: replica.stats().subscriptions,
    updatedAt: Date.now(),
  });
  await registry.register(info());
  const stopAnnouncing = await announceNode(cfg, nodes, 'fanout', admin?.port, undefined);
  b.ready = true;
  if (cfg.clusterSecret === undefined) console.warn('replicant fanout: WARNING: CLUSTER_SECRET is not set — any client that reaches the link port can read every document it serves');
  announce(cfg, port, `serving partitions ${compact(partitions)} of ${log.partitions}, link address ${address}`);
  onShutdown(async () => {
    b.ready = false;
    await stopAnnouncing();
    await registry.deregister(cfg.nodeId).catch(() => {});
    await links.close();
    await replica.close();
    await registry.close();
    await log.close();
    await store.close();
    admin?.close();
  });
}

// ---------------------------------------------------------------------------------------------

export async function runGateway(cfg: Config): Promise<void> {
  let ready = false;
  let draining = false;
  const registry = await openRegistry(cfg);
  const partitions = await waitForPartitionCount(cfg, registry);
  const upstream = new RemoteUpstream({ registry, nodeId: cfg.nodeId, partitions, window: cfg.linkWindow, clusterSecret: cfg.clusterSecret });
  const writer = new OriginClient({ baseUrl: cfg.originUrl, clusterSecret: cfg.clusterSecret });
  const gateway = new Gateway({
    upstream,
    writer,
    ...gatewayOptions(cfg, undefined, writer),
  });
  const hooks: AdminHooks = {
    // not ready until the ~control base is applied: before it the revocation list is empty
    ready: () => ready && !draining && registry.list().length > 0 && gateway.control.ready,
    beforeScrape: () => gateway.collectMetrics(),
  };
  const app = makeApp(cfg);
  gateway.attach(app);
  // origin's document routes at the edge (gateway/src/docs-http.ts): one host serves a client
  registerDocsHttp(app, {
    originUrl: cfg.originUrl,
    clusterSecret: cfg.clusterSecret,
    auth: httpAuthenticator(cfg),
    maxBodyBytes: cfg.maxBodyBytes,
    // origin trusts our signature: the revocation check for these routes is ours
    revoked: (p) => (gateway.control.ready ? gateway.connections.isRevoked(p) : undefined),
    views: cfg.viewsFile,
  });
  // with an ADMIN_PORT, metrics and /stats stay off the public port (admin.ts)
  registerAdmin(app, hooks, { metrics: cfg.adminPort === 0 });
  // ?doc=<id> (the console's inspector) adds that doc's subscribers here
  const gatewayStats = (doc?: string) => ({
    node: cfg.nodeId,
    role: 'gateway',
    connections: gateway.connectionCount,
    docs: gateway.fanout.docCount,
    deliveries: gateway.fanout.deliveries,
    upstream: upstream.stats(),
    ...(doc === undefined ? {} : { subscribers: gateway.fanout.subscriberCount(doc) }),
  });
  const stats = (res: uWS.HttpResponse, req: uWS.HttpRequest) => {
    res.writeHeader('Content-Type', 'application/json').end(JSON.stringify(gatewayStats(req.getQuery('doc'))));
  };
  const nodes = new RedisNodeDirectory({ url: cfg.redisUrl!, target: redisTarget(cfg), namespace: cfg.kafkaTopic });
  if (cfg.adminPort === 0) app.get('/stats', stats);
  notFound(app);
  const main = await listen(app, cfg.host, cfg.port);
  let admin: Listening | undefined;
  if (cfg.adminPort !== 0) {
    const adminApp = uWS.App();
    registerAdmin(adminApp, hooks);
    adminApp.get('/stats', stats);
    registerConsole(adminApp, { auth: httpAuthenticator(cfg), source: { nodes: () => nodes.list(), self: { id: cfg.nodeId, stats: (doc) => gatewayStats(doc), ready: hooks.ready } } });
    notFound(adminApp);
    admin = await listen(adminApp, cfg.host, cfg.adminPort);
  }
  // the connection directory (GET /v1/connections on origin): this gateway's summaries, rewritten
  // when its connections changed (and every CONNECTIONS_REFRESH_EVERY intervals, for doc counts),
  // else only kept alive; they expire 3 intervals after the gateway is gone
  const directory = new RedisConnectionDirectory({ url: cfg.redisUrl!, target: redisTarget(cfg), namespace: cfg.kafkaTopic });
  let publishedVersion = -1;
  let tick = 0;
  const publishConnections = () => {
    const v = gateway.connections.version;
    const rewrite = v !== publishedVersion || ++tick % CONNECTIONS_REFRESH_EVERY === 0;
    return directory
      .publish(cfg.nodeId, rewrite ? gateway.connections.summaries(MAX_PUBLISHED_PER_GATEWAY) : undefined, CONNECTIONS_PUBLISH_MS * 3)
      .then(() => {
        if (rewrite) publishedVersion = v;
      })
      .catch(() => {
        // Redis down: the entries expire; the next interval retries
      });
  };
  const publisher = setInterval(publishConnections, CONNECTIONS_PUBLISH_MS);
  void publishConnections();
  const stopAnnouncing = await announceNode(cfg, nodes, 'gateway', admin?.port, main.port);
  ready = true;
  warnIfOpen(cfg);
  announce(cfg, main.port, `WebSocket ${isTls(cfg) ? 'wss' : 'ws'}://${cfg.host}:${main.port}/v1/stream, origin ${cfg.originUrl}, ${registry.list().length} replicas`);
  onShutdown(async () => {
    draining = true;
    await stopAnnouncing();
    await gateway.drain();
    clearInterval(publisher);
    await publishConnections(); // none left: the listing stops naming this gateway's connections
    directory.close();
    main.close();
    admin?.close();
    upstream.close();
    await registry.close();
  });
}

/** how often a node re-announces itself in the node directory (the console's node list); entries live 3 intervals */
const NODE_ANNOUNCE_MS = 2000;

/**
 * Announces this node (role, admin and public URLs) in the node directory now and every
 * NODE_ANNOUNCE_MS; the returned stop withdraws it. Addresses use HOST (its machine name when HOST is 0.0.0.0).
 */
async function announceNode(cfg: Config, nodes: RedisNodeDirectory, role: NodeInfo['role'], adminPort: number | undefined, publicPort: number | undefined): Promise<() => Promise<void>> {
  const host = cfg.host === '0.0.0.0' || cfg.host === '::' ? hostname() : cfg.host;
  const info: NodeInfo = {
    id: cfg.nodeId,
    role,
    admin: adminPort === undefined ? '' : `http://${host}:${adminPort}`,
    ...(publicPort === undefined ? {} : { public: `${isTls(cfg) ? 'https' : 'http'}://${host}:${publicPort}` }),
  };
  const once = () => nodes.announce(info, NODE_ANNOUNCE_MS * 3).catch(() => {}); // Redis down: the next interval retries
  const timer = setInterval(once, NODE_ANNOUNCE_MS);
  await once(); // before the ready line: a node that says ready is listed
  return async () => {
    clearInterval(timer);
    await nodes.withdraw(cfg.nodeId).catch(() => {});
    nodes.close();
  };
}

/** how often a gateway rewrites its connections in the Redis connection directory */
const CONNECTIONS_PUBLISH_MS = 1000;
/** a full rewrite at least this often (in intervals), so doc counts stay current */
const CONNECTIONS_REFRESH_EVERY = 30;

/** the gateway routes by partition: learn the count from the registered replicas */
async function waitForPartitionCount(cfg: Config, registry: RedisRegistry): Promise<number> {
  let warned = false;
  for (;;) {
    const counts = new Set(registry.list().map((r) => r.partitionCount).filter((n): n is number => typeof n === 'number'));
    if (counts.size === 1) return [...counts][0];
    if (counts.size > 1) console.error(`replicant gateway: replicas disagree on the partition count (${[...counts].join(', ')}); waiting`);
    else if (!warned) console.error('replicant gateway: no fanout replica registered yet; waiting');
    warned = true;
    await new Promise<void>((resolve) => {
      const off = registry.onChange(() => {
        off();
        resolve();
      });
      setTimeout(() => {
        off();
        resolve();
      }, 1000);
    });
  }
}

function notFound(app: uWS.TemplatedApp): void {
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json').end('{"error":{"code":"not_found","message":"no such route"}}');
  });
}

function compact(ps: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ps.length; ) {
    let j = i;
    while (j + 1 < ps.length && ps[j + 1] === ps[j] + 1) j++;
    out.push(i === j ? `${ps[i]}` : `${ps[i]}-${ps[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
