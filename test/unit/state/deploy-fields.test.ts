import { describe, expect, it } from 'vitest';
import {
  DEPLOY_FIELDS_NOT_ACTED_ON,
  REQUEST_FIELDS_NOT_ACTED_ON,
  StateError,
  checkDeployForRequest,
  deployInputSchema,
  deployRequestInputSchema,
  deploySchema,
  deploySettings,
  deployWarnings,
  parseInput,
  requestInputSchema,
  requestWarnings,
  taskHealthcheckSpec,
  toDeploy,
  toRequest,
  withHealthcheckResult,
  MAX_HEALTHCHECK_RESULTS,
  type HealthcheckResult,
  type TaskHealth,
} from '../../../src/state/index.js';

/** The field a StateError names, or undefined when nothing was thrown. */
function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof StateError) return err.details.field as string;
    throw err;
  }
  return undefined;
}

const base = { requestId: 'web', id: 'd1', command: 'node' };
const parseDeploy = (deploy: Record<string, unknown>) =>
  parseInput(deployRequestInputSchema, { deploy: { ...base, ...deploy } });
const request = (extra: Record<string, unknown> = {}) =>
  toRequest(parseInput(requestInputSchema, { id: 'web', requestType: 'SERVICE', ...extra }));

/** Singularity's documented deploy JSON, with every field this issue adds. */
const singularityDeploy = {
  ...base,
  resources: { cpus: 0.5, memoryMb: 128, numPorts: 2 },
  healthcheck: {
    uri: '/health?deep=1',
    portIndex: 1,
    protocol: 'HTTPS',
    method: 'POST',
    intervalSeconds: 3,
    responseTimeoutSeconds: 2,
    startupDelaySeconds: 1,
    startupTimeoutSeconds: 30,
    startupIntervalSeconds: 1,
    maxRetries: 2,
    failureStatusCodes: [500, 503],
  },
  skipHealthchecksOnDeploy: false,
  deployHealthTimeoutSeconds: 300,
  considerHealthyAfterRunningForSeconds: 10,
  deployInstanceCountPerStep: 1,
  deployStepWaitTimeMs: 5000,
  autoAdvanceDeploySteps: false,
  maxTaskRetries: 2,
  serviceBasePath: '/web',
  loadBalancerGroups: ['edge'],
  loadBalancerOptions: { timeout: '5s', retries: 3, sticky: true },
  loadBalancerPortIndex: 0,
  loadBalancerServiceIdOverride: 'web-svc',
};

describe('deploy fields (Singularity names and defaults)', () => {
  it("takes Singularity's deploy JSON as is and stores what it means", () => {
    const d = toDeploy(parseDeploy(singularityDeploy), 7);
    expect(d.healthcheck).toEqual({ ...singularityDeploy.healthcheck });
    expect(deploySettings(d)).toEqual({
      skipHealthchecksOnDeploy: false,
      deployHealthTimeoutSeconds: 300,
      considerHealthyAfterRunningForSeconds: 10,
      deployInstanceCountPerStep: 1,
      deployStepWaitTimeMs: 5000,
      autoAdvanceDeploySteps: false,
      maxTaskRetries: 2,
      loadBalancerPortIndex: 0,
    });
    expect(d).toMatchObject({
      serviceBasePath: '/web',
      loadBalancerGroups: ['edge'],
      loadBalancerOptions: { timeout: '5s', retries: 3, sticky: true },
      loadBalancerServiceIdOverride: 'web-svc',
    });
    // The stored form decodes back to the same deploy.
    expect(deploySchema.parse(JSON.parse(JSON.stringify(d)))).toEqual(d);
  });

  it('fills in the defaults of a bare health check and of a bare deploy', () => {
    const d = toDeploy(parseDeploy({ resources: { numPorts: 1 }, healthcheck: { uri: '/' } }), 1);
    expect(d.healthcheck).toEqual({
      uri: '/',
      portIndex: 0,
      protocol: 'HTTP',
      method: 'GET',
      startupDelaySeconds: 0,
      startupTimeoutSeconds: 45,
      startupIntervalSeconds: 2,
      intervalSeconds: 5,
      responseTimeoutSeconds: 5,
      maxRetries: 0,
      failureStatusCodes: [],
    });
    expect(deploySettings(toDeploy(parseDeploy({}), 1))).toEqual({
      skipHealthchecksOnDeploy: false,
      deployHealthTimeoutSeconds: 120,
      considerHealthyAfterRunningForSeconds: 5,
      deployInstanceCountPerStep: undefined,
      deployStepWaitTimeMs: 0,
      autoAdvanceDeploySteps: true,
      maxTaskRetries: 0,
      loadBalancerPortIndex: 0,
    });
  });

  it('decodes a deploy stored before these fields existed, with the defaults', () => {
    const old = {
      requestId: 'web',
      id: 'd0',
      command: 'sleep',
      arguments: ['9'],
      env: {},
      resources: { cpus: 1, memoryMb: 64, diskMb: 0, numPorts: 0 },
      timestamp: 1,
    };
    const d = deploySchema.parse(old);
    expect(d).toEqual(old);
    expect(deploySettings(d).deployHealthTimeoutSeconds).toBe(120);
    expect(taskHealthcheckSpec(d, []).kind).toBe('RUNNING');
  });

  it('refuses bad values, naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ healthcheck: { uri: '/', intervalSeconds: -1 } }, 'deploy.healthcheck.intervalSeconds'],
      [
        { resources: { numPorts: 1 }, healthcheck: { uri: '/', startupIntervalSeconds: 0 } },
        'deploy.healthcheck.startupIntervalSeconds',
      ],
      [
        { resources: { numPorts: 1 }, healthcheck: { uri: '/', portIndex: 1 } },
        'deploy.healthcheck.portIndex',
      ],
      [{ healthcheck: { uri: '/' } }, 'deploy.healthcheck.portIndex'],
      [
        { healthcheck: { uri: '/', portIndex: 0, portNumber: 8080 } },
        'deploy.healthcheck.portNumber',
      ],
      [{ healthcheck: { uri: 'health' } }, 'deploy.healthcheck.uri'],
      [{ healthcheck: { uri: '/', protocol: 'GOPHER' } }, 'deploy.healthcheck.protocol'],
      [
        { healthcheck: { uri: '/', failureStatusCodes: [42] } },
        'deploy.healthcheck.failureStatusCodes[0]',
      ],
      [{ healthcheck: { uri: '/', bogus: 1 } }, 'deploy.healthcheck.bogus'],
      [{ serviceBasePath: 'web' }, 'deploy.serviceBasePath'],
      [{ deployInstanceCountPerStep: 0 }, 'deploy.deployInstanceCountPerStep'],
      [{ deployStepWaitTimeMs: -5 }, 'deploy.deployStepWaitTimeMs'],
      [{ maxTaskRetries: -1 }, 'deploy.maxTaskRetries'],
      [{ deployHealthTimeoutSeconds: 0 }, 'deploy.deployHealthTimeoutSeconds'],
      [{ loadBalancerGroups: [] }, 'deploy.loadBalancerGroups'],
      [{ loadBalancerOptions: { x: { nested: 1 } } }, 'deploy.loadBalancerOptions.x'],
      [{ loadBalancerPortIndex: 1, resources: { numPorts: 1 } }, 'deploy.loadBalancerPortIndex'],
    ];
    for (const [deploy, field] of cases) {
      expect([JSON.stringify(deploy), fieldOf(() => parseDeploy(deploy))]).toEqual([
        JSON.stringify(deploy),
        field,
      ]);
    }
    // A TCP check (no uri) on a port, or a fixed port number, is fine.
    expect(fieldOf(() => parseDeploy({ resources: { numPorts: 1 }, healthcheck: {} }))).toBe(
      undefined,
    );
    expect(fieldOf(() => parseDeploy({ healthcheck: { portNumber: 9000 } }))).toBe(undefined);
  });

  it('load-balancer fields need a loadBalanced request, which needs them', () => {
    const lbDeploy = toDeploy(parseDeploy(singularityDeploy), 1);
    expect(fieldOf(() => checkDeployForRequest(lbDeploy, request()))).toBe(
      'deploy.serviceBasePath',
    );
    const onlyGroups = toDeploy(parseDeploy({ loadBalancerGroups: ['edge'] }), 1);
    expect(fieldOf(() => checkDeployForRequest(onlyGroups, request()))).toBe(
      'deploy.loadBalancerGroups',
    );
    const lb = request({ loadBalanced: true });
    expect(fieldOf(() => checkDeployForRequest(lbDeploy, lb))).toBe(undefined);
    const plain = toDeploy(parseDeploy({ resources: { numPorts: 1 } }), 1);
    expect(fieldOf(() => checkDeployForRequest(plain, lb))).toBe('deploy.serviceBasePath');
    const noGroups = toDeploy(
      parseDeploy({ serviceBasePath: '/w', resources: { numPorts: 1 } }),
      1,
    );
    expect(fieldOf(() => checkDeployForRequest(noGroups, lb))).toBe('deploy.loadBalancerGroups');
    const noPort = toDeploy(parseDeploy({ serviceBasePath: '/w', loadBalancerGroups: ['g'] }), 1);
    expect(fieldOf(() => checkDeployForRequest(noPort, lb))).toBe('deploy.loadBalancerPortIndex');
    expect(fieldOf(() => checkDeployForRequest(plain, request()))).toBe(undefined);
  });

  it('only a SERVICE request can be loadBalanced', () => {
    for (const requestType of ['WORKER', 'SCHEDULED', 'ON_DEMAND', 'RUN_ONCE']) {
      expect(fieldOf(() => request({ requestType, loadBalanced: true }))).toBe('loadBalanced');
      expect(fieldOf(() => request({ requestType, loadBalanced: false }))).toBe(undefined);
    }
  });

  it('warns about every field set but not acted on, and only those', () => {
    const input = parseInput(deployInputSchema, singularityDeploy);
    const warned = deployWarnings(input).map((w) => w.field);
    // The leader acts on steps, health and load-balancer fields: the service-id caveat is left.
    expect(warned).toEqual(['deploy.loadBalancerServiceIdOverride']);
    expect(deployWarnings(parseInput(deployInputSchema, base))).toEqual([]);
    for (const w of deployWarnings(input)) expect(w.message.length).toBeGreaterThan(10);
    // Every entry of the tables names a field the schemas know: no stale warning survives a rename.
    const deployFields = Object.keys(deployInputSchema.shape);
    for (const f of Object.keys(DEPLOY_FIELDS_NOT_ACTED_ON)) expect(deployFields).toContain(f);
    const requestFields = Object.keys(requestInputSchema.shape);
    for (const f of Object.keys(REQUEST_FIELDS_NOT_ACTED_ON)) expect(requestFields).toContain(f);
    const r = parseInput(requestInputSchema, {
      id: 'w',
      requestType: 'SERVICE',
      loadBalanced: true,
    });
    expect(requestWarnings(r)).toEqual([]);
    const scheduled = parseInput(requestInputSchema, {
      id: 's',
      requestType: 'SCHEDULED',
      schedule: '*/5 * * * *',
    });
    expect(requestWarnings(scheduled).map((w) => w.field)).toEqual(['schedule']);
    const off = parseInput(requestInputSchema, {
      id: 'w',
      requestType: 'SERVICE',
      loadBalanced: false,
    });
    expect(requestWarnings(off)).toEqual([]);
  });

  it('resolves the TaskSpec health check: port, kind and milliseconds', () => {
    const d = toDeploy(parseDeploy(singularityDeploy), 1);
    expect(taskHealthcheckSpec(d, [31000, 31001])).toEqual({
      kind: 'HTTPS',
      uri: '/health?deep=1',
      method: 'POST',
      port: 31001,
      startupDelayMs: 1000,
      startupTimeoutMs: 30_000,
      startupIntervalMs: 1000,
      intervalMs: 3000,
      responseTimeoutMs: 2000,
      maxRetries: 2,
      failureStatusCodes: [500, 503],
      considerHealthyAfterMs: 10_000,
    });
    const tcp = toDeploy(parseDeploy({ healthcheck: { portNumber: 9000 } }), 1);
    expect(taskHealthcheckSpec(tcp, [31000])).toMatchObject({ kind: 'TCP', port: 9000 });
    const none = toDeploy(parseDeploy({ considerHealthyAfterRunningForSeconds: 2 }), 1);
    expect(taskHealthcheckSpec(none, [])).toMatchObject({
      kind: 'RUNNING',
      considerHealthyAfterMs: 2000,
    });
  });
});

describe('task health results', () => {
  const result = (at: number, health: HealthcheckResult['health']): HealthcheckResult => ({
    durationMillis: 3,
    timestamp: at,
    startup: false,
    health,
    responseBody: 'x'.repeat(2000),
  });

  it('keeps the newest results first, bounded, bodies cut, health since its change', () => {
    let t: { healthcheckResults?: HealthcheckResult[]; health?: TaskHealth } = {};
    t = withHealthcheckResult(t, result(1, 'HEALTHY'));
    t = withHealthcheckResult(t, result(2, 'HEALTHY'));
    expect(t.health).toEqual({ status: 'HEALTHY', since: 1 });
    for (let i = 3; i < 30; i++) t = withHealthcheckResult(t, result(i, 'UNHEALTHY'));
    expect(t.health).toEqual({ status: 'UNHEALTHY', since: 3 });
    expect(t.healthcheckResults!.length).toBe(MAX_HEALTHCHECK_RESULTS);
    expect(t.healthcheckResults![0]!.timestamp).toBe(29);
    expect(t.healthcheckResults![0]!.responseBody!.length).toBe(512);
  });
});
