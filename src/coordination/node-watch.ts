import type { Coordinator, ZNode } from './coordinator.js';
import { ZK_RETRY_POLICY, ZkError } from './zk-errors.js';

/** Stops a watch. */
export type Unwatch = () => void;

/**
 * What a watch tells its owner about its reads (a cache uses it to know when it has caught
 * up): `armed` when a read starts (a watch fired, a new session, a retry, the first read),
 * `applied` when the newest read has been handed to `onChange`.
 */
export interface WatchHooks {
  armed(): void;
  applied(): void;
}

/**
 * Keeps calling `onChange` with the current content of one znode (or `null` while it is
 * missing). ZooKeeper watches fire once; this re-arms after every event, after a transient
 * error, and on every new session, so callers see one continuous stream of states.
 */
export function watchNode(
  zk: Coordinator,
  path: string,
  onChange: (node: ZNode | null) => void,
  hooks?: WatchHooks,
): Unwatch {
  return keepArmed(
    zk,
    async (fire) => {
      // One round trip while the znode exists (its data watch fires on change and deletion);
      // only a missing one needs the `exists` watch that fires on its creation.
      const node = await zk.getOrNull(path, fire);
      if (node) return onChange(node);
      // Created between the two reads: read it again (this arm's watches are superseded).
      if (await zk.exists(path, fire)) return fire();
      onChange(null);
    },
    hooks,
  );
}

/**
 * Keeps calling `onChange` with the current children of a znode (`[]` while it is missing),
 * sorted unless `sorted` is false (a cache of a large directory sorts on demand, not on
 * every change).
 */
export function watchChildren(
  zk: Coordinator,
  path: string,
  onChange: (children: string[]) => void,
  hooks?: WatchHooks,
  sorted = true,
): Unwatch {
  return keepArmed(
    zk,
    async (fire) => {
      try {
        const names = await zk.children(path, fire);
        onChange(sorted ? names.sort() : names);
      } catch (err) {
        if (!(err instanceof ZkError && err.code === 'NO_NODE')) throw err;
        // Missing: watch for its creation instead; if it appeared meanwhile, read again.
        if (await zk.exists(path, fire)) return fire();
        onChange([]);
      }
    },
    hooks,
  );
}

/**
 * Runs `arm` now, again whenever its watch fires, after retryable errors, and on each new
 * session. Watchers of superseded arms are ignored, so one event never triggers two reads.
 * A reconnection of the same session re-arms only a watch whose last read did not complete:
 * ZooKeeper kept the others (and fires those whose znode changed meanwhile).
 */
function keepArmed(
  zk: Coordinator,
  arm: (fire: () => void) => Promise<void>,
  hooks: WatchHooks | undefined,
): Unwatch {
  let stopped = false;
  let generation = 0;
  let current = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const run = (): void => {
    if (stopped || !zk.ready) return;
    const mine = ++generation;
    current = false;
    hooks?.armed();
    const fire = (): void => {
      if (mine === generation) run();
    };
    arm(fire).then(
      () => {
        if (stopped || mine !== generation) return;
        current = true;
        hooks?.applied();
      },
      (err: unknown) => {
        if (stopped || mine !== generation) return;
        const backoff = err instanceof ZkError ? ZK_RETRY_POLICY[err.code].backoffMs : 0;
        // Non-retryable errors (expired session) are handled by the next 'session' event.
        if (backoff > 0) retryTimer = setTimeout(run, backoff);
      },
    );
  };
  const unsubscribe = sessionEvents(zk).subscribe({
    session: run,
    reconnected: () => {
      if (!current) run();
    },
  });
  run();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    unsubscribe();
  };
}

interface SessionListener {
  session(): void;
  reconnected(): void;
}

/**
 * One `session` and one `reconnected` listener per Coordinator, fanned out to every watch
 * (thousands in a large cluster), instead of two Coordinator listeners per watched znode.
 */
class SessionFanout {
  private readonly listeners = new Set<SessionListener>();

  constructor(zk: Coordinator) {
    zk.on('session', () => {
      for (const l of [...this.listeners]) l.session();
    });
    zk.on('reconnected', () => {
      for (const l of [...this.listeners]) l.reconnected();
    });
  }

  subscribe(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const fanouts = new WeakMap<Coordinator, SessionFanout>();

function sessionEvents(zk: Coordinator): SessionFanout {
  let fanout = fanouts.get(zk);
  if (!fanout) {
    fanout = new SessionFanout(zk);
    fanouts.set(zk, fanout);
  }
  return fanout;
}
