/** An independent ZooKeeper session of the chaos run: convergence reads and the final dump. */
import { pino } from 'pino';
import { Coordinator, ZkError } from '../../../../src/coordination/index.js';

/** Connects a Coordinator on `chroot` and waits for its session. */
export async function connectReader(connectString: string, chroot: string): Promise<Coordinator> {
  const zk = new Coordinator({
    connectString,
    chroot,
    sessionTimeoutMs: 10_000,
    opTimeoutMs: 10_000,
    logger: pino({ level: 'silent' }),
  });
  const ready = new Promise<void>((resolve) => zk.once('session', () => resolve()));
  zk.start();
  await ready;
  return zk;
}

/** Children of `path`, or [] if it does not exist. */
export async function childrenOf(zk: Coordinator, path: string): Promise<string[]> {
  try {
    return await zk.children(path);
  } catch (err) {
    if (err instanceof ZkError && err.code === 'NO_NODE') return [];
    throw err;
  }
}

/** Every persistent znode under the chroot (relative path → data). */
export async function dumpTree(zk: Coordinator): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (path: string): Promise<void> => {
    for (const name of await childrenOf(zk, path)) {
      const child = path === '/' ? `/${name}` : `${path}/${name}`;
      const node = await zk.getOrNull(child);
      if (!node) continue;
      if (!node.ephemeralOwner) out.set(child, node.data);
      await walk(child);
    }
  };
  await walk('/');
  return out;
}
