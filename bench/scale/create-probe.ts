/**
 * Where a create's time goes (issue 12, `create_per_s`): a real standalone ZooKeeper and 3
 * real replicas, no agents, requests with instances 0 (so only the create path runs). At each
 * of `--at` sizes it fills the cluster up to that many requests (one deploy each), then times
 * a window of `--window` more: objects/s, client latency of each POST, ZooKeeper reads per
 * object (`thales_zk_reads_total` of all replicas) and CPU of the replicas and of ZooKeeper
 * over the window.
 *
 * Usage: node dist/bench/scale/create-probe.js [--at 2000,5000] [--window 400] [--clients 32]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ZooKeeperCluster, startSchedulerReplicas } from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import { median } from '../stats.js';
import { cpuSeconds, createRequests } from './measure.js';

const { values } = parseArgs({
  options: {
    at: { type: 'string', default: '2000,5000' },
    window: { type: 'string', default: '400' },
    clients: { type: 'string', default: '32' },
  },
});
const SIZES = values.at.split(',').map(Number);
const WINDOW = Number(values.window);
const CLIENTS = Number(values.clients);
const say = (line: string): void => void process.stderr.write(`[create probe] ${line}\n`);

interface Latencies {
  request: number[];
  deploy: number[];
}

async function reads(urls: string[]): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    total += Number(/^thales_zk_reads_total(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-create-probe-'));
  const zk = await ZooKeeperCluster.start(dir, 1, 500);
  const replicas = await startSchedulerReplicas({
    count: 3,
    zkConnect: zk.connectString,
    chroot: '/bench',
    dir,
    sessionTimeoutMs: 10_000,
  });
  try {
    const urls = replicas.map((r) => r.url);
    await waitFor('a leader', async () => {
      const states = await Promise.all(
        urls.map((u) => fetchJson<{ role: string }>(`${u}/api/state`)),
      );
      return states.some((s) => s?.role === 'LEADER');
    });
    const pids = [...replicas.map((r) => r.process.pid ?? 0), zk.servers[0]?.pid ?? 0];
    let made = 0;
    const out: object[] = [];
    for (const size of SIZES) {
      const fill = Array.from({ length: size - made }, (_, i) => `svc-${made + i}`);
      const fillRate = await createRequests(urls, fill, 0, CLIENTS);
      made = size;
      say(`filled to ${size} at ${r1(fillRate)} objects/s`);
      const ids = Array.from({ length: WINDOW }, (_, i) => `win-${size}-${i}`);
      const lat: Latencies = { request: [], deploy: [] };
      const reads0 = await reads(urls);
      const cpu0 = pids.map(cpuSeconds);
      const t0 = performance.now();
      const rate = await createRequests(urls, ids, 0, CLIENTS, (request, deploy) => {
        lat.request.push(request);
        lat.deploy.push(deploy);
      });
      const wall = (performance.now() - t0) / 1000;
      const cpu = pids.map((p, i) => r1(((cpuSeconds(p) - (cpu0[i] ?? 0)) / wall) * 100));
      const readsPerObject = ((await reads(urls)) - reads0) / (WINDOW * 2);
      made += WINDOW;
      const figures = {
        requests: size,
        create_per_s: r1(rate),
        request_post_ms_median: r1(median(lat.request)),
        deploy_post_ms_median: r1(median(lat.deploy)),
        zk_reads_per_object_all_replicas: r1(readsPerObject),
        replica_cpu_pct: cpu.slice(0, 3),
        zk_cpu_pct: cpu[3],
        loadavg: os.loadavg().map(r1),
      };
      say(JSON.stringify(figures));
      out.push(figures);
    }
    process.stdout.write(`${JSON.stringify({ bench: 'create-probe', windows: out })}\n`);
  } finally {
    for (const r of replicas) await r.process.stop();
    await zk.stop();
    if (process.env.THALES_BENCH_KEEP) say(`logs in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
