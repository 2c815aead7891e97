/**
 * What the workload runs: the requests it owns, their tasks and resources. Sized so that the
 * largest desired state still fits the agents (so the run can converge at the end) while being
 * close enough to full that the no-over-commit check means something.
 */
import path from 'node:path';
import { repoRoot } from '../../../../src/dev/index.js';

/** A request the workload drives, and the limits of what it sets it to. */
export interface RequestSpec {
  id: string;
  /** `web` is the load-balanced one; `target` only ever receives hostile writes. */
  role: 'plain' | 'web' | 'target';
  minInstances: number;
  maxInstances: number;
  resources: { cpus: number; memoryMb: number; numPorts: number };
}

/** The long-lived requests (ids without '-', so task ids stay parseable). */
export const REQUESTS: readonly RequestSpec[] = [
  { id: 'svc0', role: 'plain', minInstances: 0, maxInstances: 3, resources: small() },
  { id: 'svc1', role: 'plain', minInstances: 0, maxInstances: 3, resources: small() },
  { id: 'svc2', role: 'plain', minInstances: 0, maxInstances: 3, resources: small() },
  {
    id: 'big0',
    role: 'plain',
    minInstances: 0,
    maxInstances: 2,
    resources: { cpus: 0.8, memoryMb: 64, numPorts: 0 },
  },
  {
    id: 'web',
    role: 'web',
    minInstances: 1,
    maxInstances: 3,
    resources: { cpus: 0.2, memoryMb: 32, numPorts: 1 },
  },
  {
    id: 'hostile_target',
    role: 'target',
    minInstances: 0,
    maxInstances: 0,
    resources: small(),
  },
];

/** The resources of the short-lived requests the workload creates and deletes. */
export const EPHEMERAL_RESOURCES = small();

function small(): RequestSpec['resources'] {
  return { cpus: 0.25, memoryMb: 32, numPorts: 0 };
}

/** The load-balancer service of `web`, as its LB requests name it. */
export const WEB_SERVICE = {
  serviceId: 'web',
  basePath: '/web/',
  groups: ['chaos'],
  // Every answer through nginx names the upstreams it tried: the routing check reads them.
  options: { nginxExtraConfigs: 'add_header X-Thales-Upstream $upstream_addr always;' },
};

/** The deploy body of `requestId`'s deploy `deployId` (`serial` makes each deploy differ). */
export function deployBody(spec: RequestSpec, deployId: string, serial: number): unknown {
  const command =
    spec.role === 'web'
      ? {
          command: process.execPath,
          arguments: [path.join(repoRoot(), 'examples', 'demo-service.mjs')],
          env: { DEPLOY_SERIAL: String(serial) },
        }
      : { command: 'sleep', arguments: [String(100_000 + serial)] };
  return { deploy: { requestId: spec.id, id: deployId, ...command, resources: spec.resources } };
}
