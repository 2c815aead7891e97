/**
 * What the scheduler needs of the load-balancer manager, as an interface the scheduler owns:
 * the lb extension implements it (src/lb imports the scheduler for its extension types, so
 * the dependency cannot go the other way) and the replica hands it to the task scheduler.
 * Upstreams are `host:port` strings, what nginx routes to.
 */

/** A load-balancer request's state (Baragon's names, as the LB manager records them). */
export type GatewayRequestState =
  'WAITING' | 'CANCELING' | 'SUCCESS' | 'FAILED' | 'CANCELED' | 'INVALID_REQUEST_NOOP';

/** A service's settings as a request carries them (the LB's `service` object). */
export interface GatewayService {
  serviceId: string;
  owners: string[];
  basePath: string;
  additionalPaths: string[];
  groups: string[];
  options: Record<string, string>;
  templateName?: string;
  domains: string[];
}

/** A request the scheduler submits: upstreams added and removed, or the service deleted. */
export interface GatewayRequest {
  /** The idempotency key: the same id and body return the stored request. */
  requestId: string;
  service: GatewayService;
  add: readonly string[];
  remove: readonly string[];
  /** DELETE removes the service from every lb-agent (a deleted request). */
  action?: 'UPDATE' | 'DELETE';
}

/** A request on a service since its stored version, as presence is derived from it. */
export interface GatewayTouch {
  requestId: string;
  state: GatewayRequestState;
  /** Some lb-agent's revert failed: its change may have stuck there. */
  revertFailed: boolean;
  /** Upstreams it adds and removes (a DELETE or replace: every upstream it may change). */
  add: readonly string[];
  remove: readonly string[];
}

/** A service as the load balancer knows it now. */
export interface GatewayServiceState {
  /** The service is stored (applied on every lb-agent of its groups at least once). */
  stored: boolean;
  /** Upstreams of the stored service: applied and acknowledged on every lb-agent. */
  upstreams: ReadonlySet<string>;
  /** Requests since the stored version that may have changed some lb-agent: open ones, and failed ones whose revert failed. */
  touches: readonly GatewayTouch[];
  /** Requests on the service not finished yet (queued, in flight, or just submitted). */
  open: number;
}

/** The load balancer as the leader's scheduling loop sees it. */
export interface SchedulerLoadBalancer {
  /**
   * This replica's LB manager leads and has read every stored service and request: only
   * then is {@link service} complete, and "in no load balancer" can be trusted for a kill.
   */
  readonly ready: boolean;
  /** Stores a request (idempotent by id); its outcome shows in {@link outcomes} once known. */
  submit(request: GatewayRequest): Promise<void>;
  /**
   * The states of these requests: from memory when this leader saw them, else read from
   * ZooKeeper (a request a previous leader submitted). Absent: no such request stored.
   */
  outcomes(requestIds: readonly string[]): Promise<Map<string, GatewayRequestState>>;
  /** A service's state (an unknown service: not stored, nothing open). */
  service(serviceId: string): GatewayServiceState;
  /**
   * Every service stored or with requests open or stuck, whoever submitted them (the
   * scheduler's own or an operator's hand-made Baragon-style requests).
   */
  serviceIds(): string[];
  /** Calls `listener` after every change that can change a decision; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}
