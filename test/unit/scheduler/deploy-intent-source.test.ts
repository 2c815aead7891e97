import { afterEach, describe, expect, it, vi } from 'vitest';
import { type TreeCache, type ZNode, encodeJson } from '../../../src/coordination/index.js';
import { CacheLagError, statePaths } from '../../../src/state/index.js';
import { cachedDeployIntents } from '../../../src/scheduler/deploy-intent-source.js';

/** A fake TreeCache (unit test): fixed znodes, settled at once unless `lagging`. */
function fakeCache(nodes: Record<string, object>, lagging = false): TreeCache {
  const znode = (value: object): ZNode => ({
    data: encodeJson(value),
    version: 0,
    ephemeralOwner: '',
    mtime: 0,
  });
  const fake = {
    whenSynced: () => Promise.resolve(),
    settled: () => (lagging ? new Promise<void>(() => undefined) : Promise.resolve()),
    get: (path: string) => (path in nodes ? znode(nodes[path] as object) : undefined),
    childNames: (dir: string) =>
      Object.keys(nodes)
        .filter((p) => p.startsWith(`${dir}/`))
        .map((p) => p.slice(dir.length + 1))
        .sort(),
  };
  return fake as unknown as TreeCache;
}

const advance = { requestId: 'web', deployId: 'd2', targetActiveInstances: 3, at: 1 };

describe('cached deploy intents (fake TreeCache)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads bounces and a request intents; one that does not decode counts as absent', async () => {
    const source = cachedDeployIntents({
      bounce: fakeCache({ [statePaths.intent('bounce', 'api')]: {} }),
      // No deployId: the schema refuses it.
      cancel: fakeCache({
        [statePaths.intent('deploy-cancel', 'web')]: { requestId: 'web', at: 1 },
      }),
      advance: fakeCache({ [statePaths.intent('deploy-advance', 'web')]: advance }),
    });
    const view = await source.current();
    expect([...view.bouncing]).toEqual(['api']);
    expect(view.forRequest('web')).toEqual({ cancel: null, advance });
    expect(view.forRequest('other')).toEqual({ cancel: null, advance: null });
  });

  it('rejects with CacheLagError when a cache does not catch up in time', async () => {
    const source = cachedDeployIntents(
      { bounce: fakeCache({}), cancel: fakeCache({}, true), advance: fakeCache({}) },
      20,
    );
    await expect(source.current()).rejects.toBeInstanceOf(CacheLagError);
  });

  it('leaves no timer behind once caught up (it waits every cycle)', async () => {
    vi.useFakeTimers();
    const source = cachedDeployIntents({
      bounce: fakeCache({}),
      cancel: fakeCache({}),
      advance: fakeCache({}),
    });
    await source.current();
    expect(vi.getTimerCount()).toBe(0);
  });
});
