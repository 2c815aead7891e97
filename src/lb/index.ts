/** The Baragon-style load-balancer manager (leader side) and the nginx lb-agent. */
export { makeLbExtensionFactory, type LbExtensionOptions } from './lb-extension.js';
export { LbApi, type LbGroupView } from './lb-api.js';
export { LbError } from './lb-error.js';
export { LbManager, type LbManagerOptions } from './lb-manager.js';
export { LbRequestStore, LB_GROUPS_DIR } from './lb-request-store.js';
export {
  type LbAgentResult,
  type LbAgentStatus,
  type LbRequest,
  type LbRequestRecord,
  type LbRequestStateName,
  type LbRequestStep,
  type LbService,
  type LbServiceRecord,
  type LbUpstream,
  LB_REQUEST_STATES,
} from './lb-model.js';
export {
  MAX_LB_REQUEST_BYTES,
  lbRequestSchema,
  lbServiceSchema,
  lbUpstreamSchema,
  parseLbRequest,
} from './lb-validation.js';
export {
  type LbPlan,
  type LbRound,
  type LbRoundDecision,
  type LbSnapshot,
  type LbTarget,
  decideRound,
  describeFailure,
  findPathConflict,
  planLbRequest,
  recordAnswer,
  recordTimeout,
  startRound,
} from './lb-request-state-machine.js';
export { nextUpstreams } from './lb-upstreams.js';
export { LEADER_METADATA_KEY } from './lb-grpc-service.js';
// The stage-timing hook: diagnostics channels a recorder may subscribe to.
export {
  LB_BATCH_CHANNEL,
  LB_STAGE_CHANNEL,
  type LbBatchEvent,
  type LbStageEvent,
} from './lb-stage-events.js';
export {
  DEFAULT_TEMPLATE,
  renderMainConf,
  renderService,
  renderVersionConf,
  upstreamName,
  type NginxTemplate,
  type RenderedService,
} from './agent/nginx-renderer.js';
export { LbAgent, type LbAgentOptions } from './agent/lb-agent.js';
export { runLbAgent, LB_AGENT_USAGE } from './agent/lb-agent-command.js';
