/**
 * Hostile writes (invariant 7, "bad input changes nothing"): malformed bodies, bad ids, path
 * tricks and out-of-range values against the write routes of every replica. Each probe names
 * the marker strings that must never appear in ZooKeeper afterwards; probes against the
 * request `hostile_target`, which no other client touches, must leave it exactly as set up.
 */
import type { Rng } from '../rng.js';
import { rawCall } from './api-client.js';
import type { WorkloadContext } from './context.js';
import { WEB_SERVICE } from './spec.js';

/** One hostile write. */
export interface HostileProbe {
  name: string;
  method: string;
  path: string;
  /** A string is sent as is (malformed JSON); anything else as JSON. */
  body?: unknown;
  /** Strings that must never show up in any znode path or data. */
  markers: string[];
  /**
   * Only stored state shows the input is bad (the body itself is well-formed), so a replica
   * cut off from ZooKeeper may rightly answer 503 UNAVAILABLE; every other probe must be
   * refused at the edge, before ZooKeeper is asked.
   */
  needsState?: true;
  /**
   * Why this probe is known to get a 5xx today (an open issue), or undefined. Known probes
   * still run and still count: the checker is not lenient; the set of probes is a parameter.
   */
  knownIssue?: string;
}

const T = '/api/requests/request/hostile_target';

/** Every probe; `{n}` in names and markers is replaced by a per-attempt serial. */
export const HOSTILE_PROBES: readonly HostileProbe[] = [
  {
    name: 'unknown field',
    method: 'POST',
    path: '/api/requests',
    body: { id: 'hostile_a{n}', requestType: 'SERVICE', colour: 'red' },
    markers: ['hostile_a{n}'],
  },
  {
    name: 'path in request id',
    method: 'POST',
    path: '/api/requests',
    body: { id: '../hostile_b{n}', requestType: 'SERVICE' },
    markers: ['hostile_b{n}'],
  },
  {
    name: '5000-character request id',
    method: 'POST',
    path: '/api/requests',
    body: { id: `hostile_c{n}${'x'.repeat(5_000)}`, requestType: 'SERVICE' },
    markers: ['hostile_c{n}'],
  },
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/api/requests',
    body: '{"id":"hostile_d{n}","requestType":',
    markers: ['hostile_d{n}'],
  },
  {
    name: 'negative instances',
    method: 'PUT',
    path: `${T}/scale`,
    body: { instances: -1 },
    markers: [],
  },
  {
    name: 'instances as a string',
    method: 'PUT',
    path: `${T}/scale`,
    body: { instances: '7' },
    markers: [],
  },
  {
    name: 'changed request type',
    method: 'POST',
    path: '/api/requests',
    body: { id: 'hostile_target', requestType: 'WORKER', instances: 9 },
    markers: [],
    needsState: true,
  },
  {
    name: 'non-boolean action field',
    method: 'POST',
    path: `${T}/pause`,
    body: { killTasks: 'yes' },
    markers: [],
  },
  {
    name: 'dash in deploy id',
    method: 'POST',
    path: '/api/deploys',
    body: { deploy: { requestId: 'hostile_target', id: 'hostile-e{n}', command: 'sleep' } },
    markers: ['hostile-e{n}'],
  },
  {
    name: 'negative cpus',
    method: 'POST',
    path: '/api/deploys',
    body: {
      deploy: {
        requestId: 'hostile_target',
        id: 'hostile_f{n}',
        command: 'sleep',
        resources: { cpus: -1 },
      },
    },
    markers: ['hostile_f{n}'],
  },
  {
    name: 'deploy of a missing request',
    method: 'POST',
    path: '/api/deploys',
    body: { deploy: { requestId: 'hostile_g{n}', id: 'd1', command: 'sleep' } },
    markers: ['hostile_g{n}'],
    needsState: true,
  },
  {
    name: 'encoded dot-dot in request path',
    method: 'PUT',
    path: '/api/requests/request/%2e%2e/scale',
    body: { instances: 1 },
    markers: [],
  },
  {
    name: 'NUL in task id',
    method: 'DELETE',
    path: '/api/tasks/task/hostile_h{n}%00',
    markers: ['hostile_h{n}'],
    needsState: true,
  },
  {
    name: 'bad upstream',
    method: 'POST',
    path: '/api/lb/requests',
    body: {
      requestId: 'hostile_i{n}',
      service: WEB_SERVICE,
      addUpstreams: [{ upstream: 'not a host' }],
    },
    markers: ['hostile_i{n}'],
  },
  {
    name: 'base path without a slash',
    method: 'POST',
    path: '/api/lb/requests',
    body: { requestId: 'hostile_j{n}', service: { ...WEB_SERVICE, basePath: 'web' } },
    markers: ['hostile_j{n}'],
  },
  {
    name: 'encoded dot-dot agent id',
    method: 'POST',
    path: '/api/agents/agent/%2e%2e/freeze',
    markers: [],
    knownIssue:
      'issue 10 item 7: agent path parameters are not validated before they become ZooKeeper paths (500)',
  },
];

/** The probes of a run: all of them, or only those without a known open issue. */
export function selectProbes(includeKnownIssues: boolean): HostileProbe[] {
  return HOSTILE_PROBES.filter((p) => includeKnownIssues || p.knownIssue === undefined);
}

function fill(value: unknown, n: number): unknown {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const filled = text.replaceAll('{n}', String(n));
  return typeof value === 'string' ? filled : (JSON.parse(filled) as unknown);
}

/** Sends hostile probes, one every second or two, until the workload stops. */
export async function runHostileClient(
  ctx: WorkloadContext,
  rng: Rng,
  probes: readonly HostileProbe[],
): Promise<void> {
  for (let n = 1; !ctx.stopped; n++) {
    const probe = rng.pick(probes);
    const r = ctx.replica(rng);
    const markers = probe.markers.map((m) => m.replaceAll('{n}', String(n)));
    const body = probe.body === undefined ? undefined : fill(probe.body, n);
    const path = probe.path.replaceAll('{n}', String(n));
    await ctx.history.run(
      {
        process: 'hostile',
        kind: 'hostile',
        target: r.id,
        value: {
          probe: probe.name,
          markers,
          path,
          ...(probe.knownIssue ? { known: true } : {}),
          ...(probe.needsState ? { needsState: true } : {}),
        },
      },
      async () => {
        const a = await rawCall(r.url, path, probe.method, body);
        return {
          outcome: a.outcome,
          ...(a.status === undefined ? {} : { status: a.status }),
          ...(a.error === undefined ? {} : { error: a.error.slice(0, 200) }),
        };
      },
    );
    await ctx.sleep(rng.int(700, 2_000));
  }
}
