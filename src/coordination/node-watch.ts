import type { Coordinator, ZNode } from './coordinator.js';
import { ZK_RETRY_POLICY, ZkError } from './zk-errors.js';

/** Stops a watch. */
export type Unwatch = () => void;

/**
 * Keeps calling `onChange` with the current content of one znode (or `null` while it is
 * missing). ZooKeeper watches fire once; this re-arms after every event, after a transient
 * error, and on every new session, so callers see one continuous stream of states.
 */
export function watchNode(
  zk: Coordinator,
  path: string,
  onChange: (node: ZNode | null) => void,
): Unwatch {
  return keepArmed(zk, async (fire) => {
    const stat = await zk.exists(path, fire);
    const node = stat ? await zk.getOrNull(path) : null;
    onChange(node);
  });
}

/**
 * Keeps calling `onChange` with the current children of a znode (`[]` while it is missing).
 */
export function watchChildren(
  zk: Coordinator,
  path: string,
  onChange: (children: string[]) => void,
): Unwatch {
  return keepArmed(zk, async (fire) => {
    try {
      onChange((await zk.children(path, fire)).sort());
    } catch (err) {
      if (!(err instanceof ZkError && err.code === 'NO_NODE')) throw err;
      // Missing: watch for its creation instead; if it appeared meanwhile, read again.
      if (await zk.exists(path, fire)) return fire();
      onChange([]);
    }
  });
}

/**
 * Runs `arm` now, again whenever its watch fires, after retryable errors, and on each new
 * session. Watchers of superseded arms are ignored, so one event never triggers two reads.
 */
function keepArmed(zk: Coordinator, arm: (fire: () => void) => Promise<void>): Unwatch {
  let stopped = false;
  let generation = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const run = (): void => {
    if (stopped || !zk.ready) return;
    const mine = ++generation;
    const fire = (): void => {
      if (mine === generation) run();
    };
    arm(fire).catch((err: unknown) => {
      if (stopped || mine !== generation) return;
      const backoff = err instanceof ZkError ? ZK_RETRY_POLICY[err.code].backoffMs : 0;
      // Non-retryable errors (expired session) are handled by the next 'session' event.
      if (backoff > 0) retryTimer = setTimeout(run, backoff);
    });
  };
  const onSession = (): void => run();
  zk.on('session', onSession);
  zk.on('reconnected', onSession);
  run();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    zk.off('session', onSession);
    zk.off('reconnected', onSession);
  };
}
