/**
 * A SubmitDeployRequest's settings become the HTTP deploy JSON (so the one zod schema checks
 * them), and a stored deploy's settings come back in its DeployInfo as given.
 */
import { describe, expect, it } from 'vitest';
import { toDeployInfo, toDeployInput } from '../../../src/api/tasks-proto.js';
import type { SubmitDeployRequest__Output } from '../../../src/gen/thales/v1/SubmitDeployRequest.js';
import { deployRequestInputSchema, parseInput, toDeploy } from '../../../src/state/index.js';

/** What the decoder gives for an empty DeploySettings (repeated and maps present, empty). */
const EMPTY = {
  healthcheck: null,
  loadBalancerGroups: [],
  loadBalancerAdditionalRoutes: [],
  loadBalancerDomains: [],
  loadBalancerOptions: {},
};

function message(settings: object): SubmitDeployRequest__Output {
  return {
    requestId: 'web',
    id: 'v1',
    command: 'node',
    arguments: [],
    env: {},
    resources: { cpus: 0.1, _cpus: 'cpus', numPorts: 1, _numPorts: 'numPorts' },
    message: '',
    settings: { ...EMPTY, ...settings },
  } as unknown as SubmitDeployRequest__Output;
}

const SETTINGS = {
  healthcheck: {
    failureStatusCodes: [503],
    uri: '/health',
    _uri: 'uri',
    intervalSeconds: 3,
    _intervalSeconds: 'intervalSeconds',
  },
  skipHealthchecksOnDeploy: false,
  _skipHealthchecksOnDeploy: 'skipHealthchecksOnDeploy',
  deployInstanceCountPerStep: 1,
  _deployInstanceCountPerStep: 'deployInstanceCountPerStep',
  serviceBasePath: '/web',
  _serviceBasePath: 'serviceBasePath',
  loadBalancerGroups: ['edge'],
  loadBalancerAdditionalRoutes: [],
  loadBalancerDomains: [],
  loadBalancerOptions: { keepalive: { numberValue: 16, kind: 'numberValue' } },
};

describe('deploy settings over gRPC', () => {
  it('map to the HTTP JSON fields, and only those given', () => {
    const input = toDeployInput(message(SETTINGS));
    expect(input.deploy).toMatchObject({
      healthcheck: { uri: '/health', intervalSeconds: 3, failureStatusCodes: [503] },
      skipHealthchecksOnDeploy: false,
      deployInstanceCountPerStep: 1,
      serviceBasePath: '/web',
      loadBalancerGroups: ['edge'],
      loadBalancerOptions: { keepalive: 16 },
    });
    expect(input.deploy).not.toHaveProperty('maxTaskRetries');
    expect(input.deploy).not.toHaveProperty('loadBalancerDomains');
  });

  it('round-trip through the shared validation into DeployInfo', () => {
    const parsed = parseInput(deployRequestInputSchema, toDeployInput(message(SETTINGS)));
    const info = toDeployInfo(toDeploy(parsed, 1_000));
    expect(info.settings).toMatchObject({
      healthcheck: { uri: '/health', intervalSeconds: 3, portIndex: 0, maxRetries: 0 },
      deployInstanceCountPerStep: 1,
      serviceBasePath: '/web',
      loadBalancerGroups: ['edge'],
      loadBalancerOptions: { keepalive: { numberValue: 16 } },
    });
  });

  it('a bad field is refused by the shared schema, named in JSON terms', () => {
    const bad = {
      healthcheck: {
        failureStatusCodes: [],
        intervalSeconds: -1,
        _intervalSeconds: 'intervalSeconds',
      },
    };
    expect(() => parseInput(deployRequestInputSchema, toDeployInput(message(bad)))).toThrow(
      /deploy\.healthcheck\.intervalSeconds/,
    );
    const noKind = { loadBalancerOptions: { x: {} } };
    expect(() => parseInput(deployRequestInputSchema, toDeployInput(message(noKind)))).toThrow(
      /deploy\.loadBalancerOptions\.x/,
    );
  });
});
