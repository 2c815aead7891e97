import http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LbAck } from '../../gen/thales/v1/LbAck.js';
import type { LbGroupUpdate__Output } from '../../gen/thales/v1/LbGroupUpdate.js';
import type { LbServiceConfig__Output } from '../../gen/thales/v1/LbServiceConfig.js';
import { fromProtoService } from '../lb-proto-mapping.js';
import { lbServiceSchema, lbUpstreamSchema } from '../lb-validation.js';
import { stageNow } from '../lb-stage-log.js';
import { BatchApplier, type BatchTimeline, type ServiceChange } from './batch-applier.js';
import { ConfigWriter } from './config-writer.js';
import { LbAgentStream } from './lb-agent-stream.js';
import { NginxProcess } from './nginx-process.js';
import { DEFAULT_TEMPLATE, type NginxTemplate, renderService } from './nginx-renderer.js';

/** Configuration of `thales lb-agent`. */
export interface LbAgentOptions {
  group: string;
  agentId: string;
  /** Scheduler gRPC addresses and/or leader discovery. */
  addresses: () => Promise<string[]>;
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

interface Pending {
  update: LbGroupUpdate__Output;
  answer: (ack: LbAck) => void;
  receivedAt: number;
}

/** One batch's stages (wall-clock ms), as `/stages` shows them. */
export interface BatchStages extends BatchTimeline {
  /** Services of the batch with when each arrived (the latest update naming it). */
  received: Record<string, number>;
  start: number;
  acked?: number;
}

const STAGE_BATCHES = 2_000;

/**
 * `thales lb-agent`: follows its group over WatchGroup and keeps its own nginx in step.
 * Updates that arrive while a batch is being applied are merged into the next batch, so
 * nginx is validated and reloaded once per batch; each nonce is then ACKed or NACKed with
 * per-service results. nginx starts only with the full state of the group applied.
 */
export class LbAgent {
  private readonly nginx: NginxProcess;
  private readonly writer: ConfigWriter;
  private readonly applier: BatchApplier;
  private readonly stream: LbAgentStream;
  private readonly queue: Pending[] = [];
  private readonly stages: BatchStages[] = [];
  private working = false;
  private reloadsSeen = 0;
  private memberUpdatesSeen = 0;
  private connected = false;
  private bootstrapped = false;
  private server: http.Server | undefined;
  private driftTimer: NodeJS.Timeout | undefined;
  private readonly metrics;

  constructor(private readonly o: LbAgentOptions) {
    const prefix = path.resolve(o.workDir, 'nginx');
    this.nginx = new NginxProcess({ bin: o.nginxBin, prefix, port: o.nginxPort });
    this.writer = new ConfigWriter(prefix, o.nginxPort, o.dynamicUpstreams ?? true);
    this.applier = new BatchApplier(this.writer, this.nginx, o.logger);
    this.stream = new LbAgentStream({
      group: o.group,
      agentId: o.agentId,
      addresses: o.addresses,
      logger: o.logger,
      onUpdate: (update, answer) => this.enqueue({ update, answer, receivedAt: stageNow() }),
      knownVersions: () =>
        Object.fromEntries([...this.applier.applied].map(([id, a]) => [id, a.version])),
      onConnectedChange: (c) => {
        this.connected = c;
        this.metrics.connected.set(c ? 1 : 0);
      },
    });
    const registers = [o.registry];
    this.metrics = {
      reloads: new Counter({
        name: 'thales_lb_agent_reloads_total',
        help: 'nginx reloads',
        registers,
      }),
      memberUpdates: new Counter({
        name: 'thales_lb_agent_member_updates_total',
        help: 'Services whose upstream members changed without a reload (Lua balancer)',
        registers,
      }),
      batches: new Counter({
        name: 'thales_lb_agent_batches_total',
        help: 'Batches applied',
        labelNames: ['result'],
        registers,
      }),
      drift: new Counter({
        name: 'thales_lb_agent_drift_repairs_total',
        help: 'Services rewritten because the disk differed from what was acked',
        registers,
      }),
      connected: new Gauge({
        name: 'thales_lb_agent_connected',
        help: '1 while the stream to the leader is up',
        registers,
      }),
      services: new Gauge({
        name: 'thales_lb_agent_services',
        help: 'Services applied',
        registers,
      }),
    };
  }

  /** Starts the HTTP endpoint and the stream; nginx starts with the first full state. */
  async start(): Promise<void> {
    // An nginx adopted from a previous agent (a restart, an upgrade) keeps serving; if it runs
    // another release's main config, the bootstrap batch reloads it.
    if (this.writer.init() && this.nginx.masterPid() !== undefined) {
      this.applier.reloadRequested = true;
    }
    this.server = http.createServer((req, res) => {
      this.serveHttp(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.o.httpPort, this.o.httpHost, () => resolve());
    });
    this.stream.start();
    this.driftTimer = setInterval(() => void this.checkDrift(), this.o.driftCheckMs);
    this.o.logger.info({ group: this.o.group, nginxPort: this.o.nginxPort }, 'lb-agent started');
  }

  /** Stops the stream, the HTTP endpoint and (unless told to keep it serving) nginx. */
  async stop(): Promise<void> {
    clearInterval(this.driftTimer);
    this.stream.stop();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
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

  private enqueue(p: Pending): void {
    this.queue.push(p);
    void this.work();
  }

  /** Applies everything queued as one batch, repeatedly, one batch at a time. */
  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.queue.length);
        await this.applyBatch(batch).catch((err: unknown) => {
          // Never leave a nonce unanswered: the leader would wait for its timeout.
          const error = `lb-agent error: ${err instanceof Error ? err.message : String(err)}`;
          this.o.logger.error({ err }, 'applying a batch failed');
          for (const p of batch) {
            p.answer({ nonce: p.update.nonce, ok: false, error, results: [] });
          }
        });
      }
    } finally {
      this.working = false;
    }
  }

  private async applyBatch(batch: Pending[]): Promise<void> {
    const lastFull = batch.map((p) => p.update.full).lastIndexOf(true);
    const changes = new Map<string, ServiceChange>();
    if (lastFull >= 0) {
      // A full state replaces everything: services not in it are removed.
      for (const id of new Set([...this.applier.applied.keys(), ...this.writer.listServices()])) {
        changes.set(id, { serviceId: id, version: 'deleted', files: null });
      }
    }
    for (const p of batch.slice(Math.max(lastFull, 0))) {
      for (const s of p.update.services) changes.set(s.serviceId, this.toChange(s));
    }
    const validate = batch.some((p) => !p.update.noValidate);
    const reload = batch.some((p) => !p.update.noReload);
    const stages = this.recordBatch(batch, lastFull >= 0);
    const results = await this.applier.apply([...changes.values()], {
      validate,
      reload,
      timeline: stages,
    });
    const ok = [...results.values()].every((r) => r.ok);
    this.metrics.batches.inc({ result: ok ? 'ok' : 'partial' });
    this.metrics.services.set(this.applier.applied.size);
    this.metrics.reloads.inc(this.applier.reloads - this.reloadsSeen);
    this.reloadsSeen = this.applier.reloads;
    this.metrics.memberUpdates.inc(this.applier.memberUpdates - this.memberUpdatesSeen);
    this.memberUpdatesSeen = this.applier.memberUpdates;
    if (lastFull >= 0 && ok) this.bootstrapped = true;
    // ACK once the old nginx workers are retired; the next batch is prepared meanwhile.
    void this.applier.retiring.then(() => {
      for (const p of batch) this.answer(p, results);
      if (stages) stages.acked = stageNow();
    });
  }

  /** Starts the stage record of a delta batch (full states are not recorded). */
  private recordBatch(batch: Pending[], full: boolean): BatchStages | undefined {
    if (full) return undefined;
    const received: Record<string, number> = {};
    for (const p of batch) for (const s of p.update.services) received[s.serviceId] = p.receivedAt;
    const stages: BatchStages = { received, start: stageNow() };
    this.stages.push(stages);
    if (this.stages.length > STAGE_BATCHES) this.stages.shift();
    return stages;
  }

  private answer(p: Pending, results: Map<string, { ok: boolean; error?: string }>): void {
    const mine = p.update.full ? [...results.keys()] : p.update.services.map((s) => s.serviceId);
    const list = mine.map((id) => {
      const r = results.get(id) ?? { ok: true };
      const version = this.applier.applied.get(id)?.version ?? 'deleted';
      return { serviceId: id, version, ok: r.ok, error: r.error ?? '' };
    });
    const failed = list.filter((r) => !r.ok);
    p.answer({
      nonce: p.update.nonce,
      ok: failed.length === 0,
      error: failed.map((f) => `${f.serviceId}: ${f.error}`).join('\n'),
      results: list,
    });
  }

  private toChange(s: LbServiceConfig__Output): ServiceChange {
    if (s.deleted || !s.service) return { serviceId: s.serviceId, version: s.version, files: null };
    try {
      const service = lbServiceSchema.parse(fromProtoService(s.service));
      const upstreams = s.upstreams.map((u) => lbUpstreamSchema.parse({ upstream: u.upstream }));
      const templates = { default: DEFAULT_TEMPLATE, ...this.o.templates };
      return {
        serviceId: s.serviceId,
        version: s.version,
        files: renderService(service, upstreams, templates, this.o.dynamicUpstreams ?? true),
      };
    } catch (err) {
      const renderError = err instanceof Error ? err.message : String(err);
      return { serviceId: s.serviceId, version: s.version, files: null, renderError };
    }
  }

  private async checkDrift(): Promise<void> {
    if (this.working || !this.bootstrapped) return;
    this.working = true;
    try {
      const repaired = await this.applier.repairDrift();
      if (repaired.length > 0) {
        this.metrics.drift.inc(repaired.length);
        this.o.logger.warn({ services: repaired }, 'disk differed from acked config; repaired');
      }
    } catch (err) {
      this.o.logger.error({ err }, 'drift check failed');
    } finally {
      this.working = false;
      if (this.queue.length > 0) void this.work();
    }
  }

  private async serveHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (url === '/metrics') {
      res.setHeader('content-type', this.o.registry.contentType);
      res.end(await this.o.registry.metrics());
    } else if (url === '/health') {
      const healthy = this.bootstrapped && this.nginx.masterPid() !== undefined;
      res.statusCode = healthy ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ healthy, connected: this.connected, bootstrapped: this.bootstrapped }),
      );
    } else if (url === '/stages') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(this.stages));
    } else if (url === '/status') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(this.status()));
    } else {
      res.statusCode = 404;
      res.end();
    }
  }
}
