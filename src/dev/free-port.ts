import net from 'node:net';

/** Asks the kernel for a free loopback TCP port (bind to 0, read it, release it). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Returns `count` distinct free ports. */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await findFreePort(host));
  return [...ports];
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
 * `count` consecutive ports, all free now, at a random place in `[from, to)`. For ports that
 * must stay free for a while unbound (an agent's task ports): below the kernel's ephemeral
 * range (32768+ on Linux), no `bind(0)` or outgoing connection takes them meanwhile, which a
 * port from {@link findFreePort} cannot promise. Throws after `attempts` busy blocks.
 */
export async function findFreePortBlock(
  count: number,
  { from = 10_000, to = 20_000, attempts = 20, host = '127.0.0.1' } = {},
): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const begin = from + Math.floor(Math.random() * (to - from - count));
    const ports = Array.from({ length: count }, (_, k) => begin + k);
    const free = await Promise.all(ports.map((p) => isPortFree(p, host)));
    if (free.every(Boolean)) return begin;
  }
  throw new Error(
    `no ${count} consecutive free ports in ${from}-${to - 1} after ${attempts} tries`,
  );
}
