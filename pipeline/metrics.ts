import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { BatchObserver, BatchStage, ObservedResult } from './batch-observer.js';
import { PipelineError } from './errors.js';
import type { PipelineLogger } from './logger.js';
import { STORAGE_NAMES, type Storage } from './storage.js';
import type { WorkerPool } from './worker-pool.js';

/** The Prometheus side of a running orchestrator: a registry and the hooks that feed it. */
export interface PipelineMetrics {
  registry: Registry;
  observer: BatchObserver;
}

export interface MetricsServerOptions {
  port: number;
  /** @default '127.0.0.1' — only this machine can scrape unless told otherwise */
  host?: string;
  /** Whether the orchestrator is receiving; `/readyz` is 503 otherwise. */
  isReady: () => boolean;
  log: PipelineLogger;
}

export interface MetricsServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

// Label values come from configuration and code only: feed ids (checked against the feed id
// pattern), reason codes and stage names. Never a blob name or anything read from a file.
const FEED_LABEL = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CODE_LABEL = /^[A-Za-z0-9_]{1,64}$/;

/**
 * Creates the metrics registry: queue gauges read from storage at scrape time, counters and
 * histograms fed by the returned observer, and worker pool gauges.
 *
 * @param storage - the opened storage, for queue depth and oldest-message age
 * @param pool - the worker pool, for utilisation
 */
export function createPipelineMetrics(storage: Storage, pool?: WorkerPool): PipelineMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'phi_ingest_' });

  // Both queue gauges come from one sample of the queues, taken when a scrape starts (the
  // registry collects metrics in parallel, so they share the in-flight sample).
  let sampling: Promise<QueueSample[]> | undefined;
  const sampleOnce = (): Promise<QueueSample[]> => {
    sampling ??= sampleQueues(storage).finally(() => {
      sampling = undefined;
    });
    return sampling;
  };
  new Gauge({
    name: 'phi_ingest_queue_depth',
    help: 'Approximate messages in the queue, including invisible ones',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      for (const sample of await sampleOnce()) {
        this.set({ queue: sample.name }, sample.depth);
      }
    },
  });
  new Gauge({
    name: 'phi_ingest_queue_oldest_message_age_seconds',
    help: 'Age of the oldest visible message in the queue; 0 when none is visible',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      for (const sample of await sampleOnce()) {
        this.set({ queue: sample.name }, sample.oldestAgeSec);
      }
    },
  });

  const batches = new Counter({
    name: 'phi_ingest_batches_total',
    help: 'Batches finished, by feed and outcome (committed, quarantined, already_done, source_missing)',
    labelNames: ['feed', 'status'],
    registers: [registry],
  });
  const messages = new Counter({
    name: 'phi_ingest_messages_total',
    help: 'HL7 messages, FHIR resources or NDJSON lines read from committed batches',
    labelNames: ['feed'],
    registers: [registry],
  });
  const written = new Counter({
    name: 'phi_ingest_records_written_total',
    help: 'Records written to output parts',
    labelNames: ['feed'],
    registers: [registry],
  });
  const rejects = new Counter({
    name: 'phi_ingest_rejects_total',
    help: 'Records rejected inside committed batches, by reason code',
    labelNames: ['feed', 'reason'],
    registers: [registry],
  });
  const quarantined = new Counter({
    name: 'phi_ingest_quarantined_total',
    help: 'Whole files quarantined, by reason code',
    labelNames: ['feed', 'reason'],
    registers: [registry],
  });
  const poisoned = new Counter({
    name: 'phi_ingest_poisoned_total',
    help: 'Queue messages moved to the poison queue, by reason code',
    labelNames: ['feed', 'reason'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'phi_ingest_retries_total',
    help: 'Batches released for another attempt after a retryable error, by error code',
    labelNames: ['feed', 'reason'],
    registers: [registry],
  });
  const stageSeconds = new Histogram({
    name: 'phi_ingest_stage_duration_seconds',
    help: 'Time spent in each step of a batch',
    labelNames: ['stage'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  new Gauge({
    name: 'phi_ingest_worker_pool_utilization',
    help: 'Share of worker pool capacity used since start, 0 to 1 (piscina utilization)',
    registers: [registry],
    collect() {
      this.set(pool?.utilization() ?? 0);
    },
  });
  new Gauge({
    name: 'phi_ingest_worker_pool_threads',
    help: 'Most worker threads the pool may run',
    registers: [registry],
    collect() {
      this.set(pool?.threads ?? 0);
    },
  });

  const observer: BatchObserver = {
    stageCompleted(stage: BatchStage, durationMs: number) {
      stageSeconds.observe({ stage }, durationMs / 1000);
    },
    batchFinished(feedId: string | undefined, result: ObservedResult) {
      const feed = feedLabel(feedId);
      batches.inc({ feed, status: result.kind.replace('-', '_') });
      if (result.kind === 'committed') {
        messages.inc({ feed }, result.manifest.counts.messagesIn);
        written.inc({ feed }, result.manifest.counts.written);
        for (const [reason, count] of Object.entries(result.manifest.counts.rejectedByReason)) {
          rejects.inc({ feed, reason: codeLabel(reason) }, count);
        }
      }
      if (result.kind === 'quarantined') {
        quarantined.inc({ feed, reason: codeLabel(result.manifest.reasonCode) });
      }
    },
    queueMessagePoisoned(feedId: string | undefined, reasonCode: string) {
      poisoned.inc({ feed: feedLabel(feedId), reason: codeLabel(reasonCode) });
    },
    batchRetried(feedId: string, errorCode: string) {
      retries.inc({ feed: feedLabel(feedId), reason: codeLabel(errorCode) });
    },
  };
  return { registry, observer };
}

/**
 * Serves `/metrics` (Prometheus text format), `/healthz` (the process answers) and `/readyz`
 * (the orchestrator is receiving and storage answers).
 *
 * @param metrics - from `createPipelineMetrics`
 * @param storage - probed by `/readyz`
 * @param options - port, host, readiness and logger
 */
export async function startMetricsServer(
  metrics: PipelineMetrics,
  storage: Storage,
  options: MetricsServerOptions,
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      response.writeHead(status, { 'content-type': type }).end(body);
    };
    if (request.method !== 'GET') {
      reply(405, 'method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      reply(200, 'ok\n');
      return;
    }
    if (path === '/readyz') {
      if (!options.isReady()) {
        reply(503, 'not ready: orchestrator not receiving\n');
        return;
      }
      storage.inboundQueue
        .getProperties()
        .then(() => reply(200, 'ready\n'))
        .catch(() => reply(503, 'not ready: storage unavailable\n'));
      return;
    }
    if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => reply(200, text, metrics.registry.contentType))
        .catch(() => reply(500, 'metrics collection failed\n'));
      return;
    }
    reply(404, 'not found\n');
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(
        new PipelineError('METRICS_SERVER_FAILED', 'The metrics port could not be opened', {
          cause,
        }),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info({ port }, 'Metrics server started');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface QueueSample {
  name: string;
  depth: number;
  oldestAgeSec: number;
}

async function sampleQueues(storage: Storage): Promise<QueueSample[]> {
  const queues = [
    [STORAGE_NAMES.inboundQueue, storage.inboundQueue],
    [STORAGE_NAMES.poisonQueue, storage.poisonQueue],
  ] as const;
  return Promise.all(
    queues.map(async ([name, client]) => {
      const [properties, peeked] = await Promise.all([
        client.getProperties(),
        client.peekMessages({ numberOfMessages: 1 }),
      ]);
      const oldest = peeked.peekedMessageItems[0]?.insertedOn;
      return {
        name,
        depth: properties.approximateMessagesCount ?? 0,
        oldestAgeSec: oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0,
      };
    }),
  );
}

function feedLabel(feedId: string | undefined): string {
  return feedId && FEED_LABEL.test(feedId) ? feedId : 'unknown';
}

function codeLabel(code: string | undefined): string {
  return code && CODE_LABEL.test(code) ? code : 'OTHER';
}

/** Metrics for one `run`: the observer to hand the orchestrator, readiness, and shutdown. */
export interface RunMetrics {
  observer?: BatchObserver;
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

/**
 * Starts metrics for `run --metrics-port`; without a port, a no-op.
 *
 * @param app - the opened app (storage, pool, logger)
 * @param options - port and host from the command line
 */
export async function startRunMetrics(
  app: { storage: Storage; pool?: WorkerPool; log: PipelineLogger },
  options: { port?: string; host?: string },
): Promise<RunMetrics> {
  if (options.port === undefined) {
    return { setReady: () => {}, close: async () => {} };
  }
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PipelineError(
      'CONFIG_INVALID',
      '--metrics-port must be a port number from 0 to 65535',
    );
  }
  let ready = false;
  const metrics = createPipelineMetrics(app.storage, app.pool);
  const server = await startMetricsServer(metrics, app.storage, {
    port,
    host: options.host,
    isReady: () => ready,
    log: app.log,
  });
  return {
    observer: metrics.observer,
    setReady: (value) => {
      ready = value;
    },
    close: () => server.close(),
  };
}
