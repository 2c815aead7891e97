/**
 * The protobuf forms of a deploy's settings, results and progress (`scheduler.proto`). Input
 * messages become the JSON body of `POST /api/deploys` (Singularity's field names), so gRPC
 * goes through the same zod validation as HTTP; nothing here checks a value itself.
 */
import type { Deploy, DeployResult } from '../state/index.js';
import type { DeployResult as DeployResultMessage } from '../gen/thales/v1/DeployResult.js';
import type {
  DeploySettings as DeploySettingsMessage,
  DeploySettings__Output,
} from '../gen/thales/v1/DeploySettings.js';
import type { HealthcheckOptions__Output } from '../gen/thales/v1/HealthcheckOptions.js';
import type { LoadBalancerOptionValue__Output } from '../gen/thales/v1/LoadBalancerOptionValue.js';

/** Copies the `optional` scalars a message has set (proto3 presence: `_name` holds the name). */
export function copySet(
  message: object,
  names: readonly string[],
  out: Record<string, unknown>,
): Record<string, unknown> {
  const fields = message as Record<string, unknown>;
  for (const name of names) if (fields[`_${name}`] === name) out[name] = fields[name];
  return out;
}

/** Copies the repeated fields and maps a message holds entries in (empty is "not given"). */
function copyNonEmpty(message: object, names: readonly string[], out: Record<string, unknown>) {
  const fields = message as Record<string, unknown>;
  for (const name of names) {
    const value = fields[name];
    const size = Array.isArray(value) ? value.length : Object.keys(value ?? {}).length;
    if (size > 0) out[name] = value;
  }
}

const HEALTHCHECK_SCALARS = [
  'uri',
  'portIndex',
  'portNumber',
  'protocol',
  'method',
  'intervalSeconds',
  'responseTimeoutSeconds',
  'startupDelaySeconds',
  'startupTimeoutSeconds',
  'startupIntervalSeconds',
  'maxRetries',
] as const;

const SETTINGS_SCALARS = [
  'skipHealthchecksOnDeploy',
  'deployHealthTimeoutSeconds',
  'considerHealthyAfterRunningForSeconds',
  'deployInstanceCountPerStep',
  'deployStepWaitTimeMs',
  'autoAdvanceDeploySteps',
  'maxTaskRetries',
  'serviceBasePath',
  'loadBalancerPortIndex',
  'loadBalancerServiceIdOverride',
  'loadBalancerTemplate',
] as const;

const SETTINGS_LISTS = [
  'loadBalancerGroups',
  'loadBalancerAdditionalRoutes',
  'loadBalancerDomains',
] as const;

function toHealthcheckInput(message: HealthcheckOptions__Output): Record<string, unknown> {
  const input = copySet(message, HEALTHCHECK_SCALARS, {});
  copyNonEmpty(message, ['failureStatusCodes'], input);
  return input;
}

/** An option value without a kind becomes null, which validation refuses by its name. */
function toOptionValue(value: LoadBalancerOptionValue__Output): unknown {
  return value.kind ? value[value.kind] : null;
}

/** A DeploySettings message as the deploy JSON fields it sets (none when absent). */
export function toDeploySettingsInput(
  message: DeploySettings__Output | null,
): Record<string, unknown> {
  if (!message) return {};
  const input = copySet(message, SETTINGS_SCALARS, {});
  if (message.healthcheck) input.healthcheck = toHealthcheckInput(message.healthcheck);
  copyNonEmpty(message, SETTINGS_LISTS, input);
  const options = Object.entries(message.loadBalancerOptions);
  if (options.length) {
    input.loadBalancerOptions = Object.fromEntries(
      options.map(([name, value]) => [name, toOptionValue(value)]),
    );
  }
  return input;
}

function toOptionMessage(value: string | number | boolean) {
  if (typeof value === 'string') return { stringValue: value };
  return typeof value === 'number' ? { numberValue: value } : { boolValue: value };
}

/** A stored deploy's settings as the DeploySettings message (unset stays unset). */
export function toDeploySettingsMessage(deploy: Deploy): DeploySettingsMessage {
  // Unset scalars stay unset: protobufjs writes an optional field only when it holds a value.
  const settings: DeploySettingsMessage = {};
  for (const name of SETTINGS_SCALARS) {
    if (deploy[name] !== undefined) (settings as Record<string, unknown>)[name] = deploy[name];
  }
  for (const name of SETTINGS_LISTS) settings[name] = deploy[name] ?? [];
  settings.healthcheck = deploy.healthcheck ?? null;
  settings.loadBalancerOptions = Object.fromEntries(
    Object.entries(deploy.loadBalancerOptions ?? {}).map(([k, v]) => [k, toOptionMessage(v)]),
  );
  return settings;
}

/** A deploy's result as its message. */
export function toDeployResultMessage(result: DeployResult): DeployResultMessage {
  return {
    deployState: result.deployState,
    message: result.message ?? '',
    deployFailures: result.deployFailures.map((f) => ({
      reason: f.reason,
      taskId: f.taskId ?? '',
      message: f.message ?? '',
    })),
    timestamp: result.timestamp,
  };
}
