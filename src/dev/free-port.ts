/**
 * Ports for local clusters (`thales dev`, tests, benchmarks). Two ranges below the kernel's
 * ephemeral range (32768+ on Linux), so no outgoing connection's local port ever takes one
 * between the pick and the bind:
 * - service ports (replicas, agents, ZooKeeper, nginx) from {@link findFreePort}, in
 *   20000–30399, split into slices by vitest worker (or pid), so two test files running at
 *   once never pick the same port, and never handed out twice by one process;
 * - blocks of task ports from {@link findFreePortBlock}, in 10000–19999 (`thales dev` uses
 *   31000–31199 by default).
 */
import net from 'node:net';

/** Where service ports come from. */
export const SERVICE_PORT_RANGE = { from: 20_000, to: 30_400 } as const;
/** Where blocks of task ports come from (agents' `--ports`). */
export const TASK_PORT_RANGE = { from: 10_000, to: 20_000 } as const;

const SLICES = 8;
/** Ports this process handed out, oldest first (forgotten once this many are remembered). */
const handedOut = new Set<number>();
const REMEMBERED = 1_000;

/** This process's slice of the service range. */
function serviceSlice(): { from: number; to: number } {
  const size = Math.floor((SERVICE_PORT_RANGE.to - SERVICE_PORT_RANGE.from) / SLICES);
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? NaN);
  const index = (Number.isInteger(worker) ? worker : process.pid) % SLICES;
  const from = SERVICE_PORT_RANGE.from + index * size;
  return { from, to: from + size };
}

/** A free loopback TCP port of this process's slice, never one it handed out recently. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const { from, to } = serviceSlice();
  for (let i = 0; i < 200; i++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (handedOut.has(port) || !(await isPortFree(port, host))) continue;
    remember(port);
    return port;
  }
  throw new Error(`no free port in ${from}-${to - 1} after 200 tries`);
}

function remember(port: number): void {
  handedOut.add(port);
  if (handedOut.size > REMEMBERED) handedOut.delete(handedOut.values().next().value as number);
}

/** Returns `count` distinct free ports. */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await findFreePort(host));
  return ports;
}

/** Whether `port` can be bound on `host` now (bound and released at once). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive ports, all free now, at a random place in `[from, to)` (default the
 * task-port range). For ports that must stay free for a while unbound (an agent's task
 * ports); never overlapping a block or port this process handed out. Throws after `attempts`
 * busy blocks.
 */
export async function findFreePortBlock(
  count: number,
  {
    from = TASK_PORT_RANGE.from as number,
    to = TASK_PORT_RANGE.to as number,
    attempts = 20,
    host = '127.0.0.1',
  } = {},
): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const begin = from + Math.floor(Math.random() * (to - from - count));
    const ports = Array.from({ length: count }, (_, k) => begin + k);
    if (ports.some((p) => handedOut.has(p))) continue;
    const free = await Promise.all(ports.map((p) => isPortFree(p, host)));
    if (!free.every(Boolean)) continue;
    for (const p of ports) remember(p);
    return begin;
  }
  throw new Error(
    `no ${count} consecutive free ports in ${from}-${to - 1} after ${attempts} tries`,
  );
}
