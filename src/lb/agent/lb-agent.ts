import http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type LeaderDiscovery, closeHttpServer, detach, listen } from '../../runtime/index.js';
import {
  type LbBatchEvent,
  batchTimelinesWanted,
  publishBatch,
  stageNow,
} from '../lb-stage-events.js';
import { ApplyLane } from './apply-lane.js';
import { BatchApplier } from './batch-applier.js';
import { ConfigWriter } from './config-writer.js';
import { makeLbAgentHttpApp } from './lb-agent-http.js';
import { type LbAgentMetrics, makeLbAgentMetrics } from './lb-agent-metrics.js';
import { type LbAgentStream, makeLbAgentStream } from './lb-agent-stream.js';
import { NginxProcess } from './nginx-process.js';
import type { NginxTemplate } from './nginx-renderer.js';
import {
  type PendingUpdate,
  ackFor,
  mergeUpdates,
  nackAll,
  toServiceChange,
} from './update-batch.js';

/** Configuration of `thales lb-agent`. */
export interface LbAgentOptions {
  group: string;
  agentId: string;
  /** Where the leader is: `--scheduler` addresses and/or ZooKeeper's `/leader` latch. */
  discovery: LeaderDiscovery;
  nginxBin: string;
  nginxPort: number;
  workDir: string;
  httpHost: string;
  httpPort: number;
  templates?: Record<string, NginxTemplate>;
  /**
   * Balance upstreams from Lua so a membership change needs no reload (default true; needs
   * libnginx-mod-http-lua). False renders plain nginx: every change reloads.
   */
  dynamicUpstreams?: boolean;
  /** How often what is on disk is compared with what was acked. */
  driftCheckMs: number;
  /**
   * Leave nginx serving when the agent stops (default false: nginx stops with it). A restart
   * of the agent (an upgrade, a crash) then costs no request: the next agent adopts the master
   * through its pid file and brings it up to date from the full state of its group.
   */
  keepNginxOnStop?: boolean;
  /** The Thales release running this agent, reported by `/status`. */
  version?: string;
  logger: Logger;
  registry: Registry;
}

/**
 * `thales lb-agent`: follows its group over WatchGroup and keeps its own nginx in step.
 * Updates go through one {@link ApplyLane} with the drift repairs: those that arrive while a
 * batch is applied are merged into the next, so nginx is validated and reloaded once per
 * batch; each nonce is then ACKed or NACKed with per-service results. nginx starts only with
 * the full state of the group applied.
 */
export class LbAgent {
  private readonly nginx: NginxProcess;
  private readonly writer: ConfigWriter;
  private readonly applier: BatchApplier;
  private readonly stream: LbAgentStream;
  private readonly lane: ApplyLane<PendingUpdate>;
  private readonly metrics: LbAgentMetrics;
  private connected = false;
  private bootstrapped = false;
  private server: http.Server | undefined;
  private driftTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LbAgentOptions) {
    const prefix = path.resolve(o.workDir, 'nginx');
    this.nginx = new NginxProcess({ bin: o.nginxBin, prefix, port: o.nginxPort });
    this.writer = new ConfigWriter(prefix, o.nginxPort, o.dynamicUpstreams ?? true);
    this.applier = new BatchApplier(this.writer, this.nginx, o.logger);
    this.metrics = makeLbAgentMetrics(o.registry);
    this.lane = new ApplyLane(
      (batch) => this.applyOrNack(batch),
      (err) => o.logger.error({ err }, 'lb-agent apply lane failed'),
    );
    this.stream = makeLbAgentStream({
      group: o.group,
      agentId: o.agentId,
      discovery: o.discovery,
      logger: o.logger,
      onUpdate: (update, answer) => this.lane.push({ update, answer, receivedAt: stageNow() }),
      knownVersions: () =>
        Object.fromEntries([...this.applier.applied].map(([id, a]) => [id, a.version])),
      onConnectedChange: (c) => {
        this.connected = c;
        this.metrics.connected(c);
      },
    });
  }

  /** Starts the HTTP endpoint and the stream; nginx starts with the first full state. */
  async start(): Promise<void> {
    // An nginx adopted from a previous agent (a restart, an upgrade) keeps serving; if it runs
    // another release's main config, the bootstrap batch reloads it.
    if (this.writer.init() && this.nginx.masterPid() !== undefined) {
      this.applier.reloadRequested = true;
    }
    this.server = http.createServer(
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback catches (ctx.onerror)
      makeLbAgentHttpApp({
        registry: this.o.registry,
        logger: this.o.logger,
        health: () => ({
          healthy: this.bootstrapped && this.nginx.masterPid() !== undefined,
          connected: this.connected,
          bootstrapped: this.bootstrapped,
        }),
        status: () => this.status(),
      }).callback(),
    );
    await listen(this.server, this.o.httpHost, this.o.httpPort, 'http');
    this.stream.start();
    this.driftTimer = setInterval(() => {
      if (!this.bootstrapped) return;
      detach(
        this.lane.runIfIdle(() => this.repairDrift()),
        this.o.logger,
        'drift check',
      );
    }, this.o.driftCheckMs);
    this.o.logger.info({ group: this.o.group, nginxPort: this.o.nginxPort }, 'lb-agent started');
  }

  /** Stops the stream, the HTTP endpoint and (unless told to keep it serving) nginx. */
  async stop(): Promise<void> {
    clearInterval(this.driftTimer);
    this.stream.stop();
    if (this.server) await closeHttpServer(this.server, 1_000);
    if (this.o.keepNginxOnStop) {
      this.o.logger.info({ nginxPid: this.nginx.masterPid() }, 'leaving nginx serving');
      return;
    }
    await this.nginx.stop();
  }

  /** What `/status` answers (also used by tests and the bench). */
  status(): Record<string, unknown> {
    return {
      agentId: this.o.agentId,
      group: this.o.group,
      version: this.o.version ?? 'unknown',
      nginxPid: this.nginx.masterPid() ?? null,
      connected: this.connected,
      bootstrapped: this.bootstrapped,
      generation: this.applier.generation,
      reloads: this.applier.reloads,
      memberUpdates: this.applier.memberUpdates,
      services: Object.fromEntries([...this.applier.applied].map(([id, a]) => [id, a.version])),
    };
  }

  /** Applies a batch; never leaves a nonce unanswered (the leader would wait for its timeout). */
  private async applyOrNack(batch: PendingUpdate[]): Promise<void> {
    try {
      await this.applyBatch(batch);
    } catch (err) {
      this.o.logger.error({ err }, 'applying a batch failed');
      nackAll(batch, `lb-agent error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async applyBatch(batch: PendingUpdate[]): Promise<void> {
    const started = performance.now();
    const present = new Set([...this.applier.applied.keys(), ...this.writer.listServices()]);
    const dynamic = this.o.dynamicUpstreams ?? true;
    const merged = mergeUpdates(
      batch.map((p) => p.update),
      present,
      (s) => toServiceChange(s, this.o.templates, dynamic),
    );
    const timeline = this.startTimeline(batch, merged.full);
    const results = await this.applier.apply(merged.changes, {
      validate: merged.validate,
      reload: merged.reload,
      ...(timeline ? { timeline } : {}),
    });
    const ok = [...results.values()].every((r) => r.ok);
    this.metrics.batchApplied(ok, (performance.now() - started) / 1000, {
      reloads: this.applier.reloads,
      memberUpdates: this.applier.memberUpdates,
      services: this.applier.applied.size,
    });
    if (merged.full && ok) this.bootstrapped = true;
    // ACK once the old nginx workers are retired; the next batch is prepared meanwhile.
    const versionOf = (id: string): string | undefined => this.applier.applied.get(id)?.version;
    const ack = (): void => {
      for (const p of batch) p.answer(ackFor(p.update, results, versionOf));
      if (timeline) publishBatch({ ...timeline, acked: stageNow() });
    };
    // A failed wait for the old workers does not undo the reload: the batch is applied, so it
    // is ACKed (unanswered, the leader would time it out and revert what is in place).
    this.applier.retiring.then(ack, (err: unknown) => {
      this.o.logger.warn({ err }, 'old nginx workers not seen retiring; acknowledging anyway');
      ack();
    });
  }

  /**
   * The stage timeline of a delta batch, only while someone listens (lb-stage-events.ts;
   * full states are not timed).
   */
  private startTimeline(batch: PendingUpdate[], full: boolean): LbBatchEvent | undefined {
    if (full || !batchTimelinesWanted()) return undefined;
    const received: Record<string, number> = {};
    for (const p of batch) for (const s of p.update.services) received[s.serviceId] = p.receivedAt;
    return { agentId: this.o.agentId, received, start: stageNow() };
  }

  private async repairDrift(): Promise<void> {
    try {
      const repaired = await this.applier.repairDrift();
      if (repaired.length > 0) {
        this.metrics.driftRepaired(repaired.length);
        this.o.logger.warn({ services: repaired }, 'disk differed from acked config; repaired');
      }
    } catch (err) {
      this.o.logger.error({ err }, 'drift check failed');
    }
  }
}
