/** The reconcile core's public surface: pure planning plus the executor that drives a WhitelistPort. */
export * from './types';
export { validateIpv4, validateIpv4List, isCanonicalIpv4, compareIpv4, describeValue } from '../shared/validate-ip';
export type { IpRejectionCode, IpValidation, Ipv4ListProblem } from '../shared/validate-ip';
export { normaliseDesired } from './desired';
export type { NormalisedDesired } from './desired';
export {
  parseCredentialConfig,
  credentialConfigOrThrow,
  CredentialConfigError,
  DEFAULT_MODE,
  DEFAULT_MAX_DEACTIVATIONS_PER_RUN,
} from './config';
export type { ConfigIssue, ConfigParseResult } from './config';
export { classifyEntries, activeConcreteIps, compareByAge, wildcardCovers, WILDCARD } from './actual';
export { GUARDS, applyGuards, simulate, activeDesiredIps, CALLER_UNKNOWN_REASON } from './guards';
export type { Guard, GuardContext } from './guards';
export { plan, normaliseCallerIps } from './plan';
export { execute, isPerIpFailure } from './executor';
export { ERROR_KINDS, decisionOf, isErrorKind, isPortError, isPortErrorKind, retryDisposition } from './errors';
export type { ErrorKind, ErrorInfo, KindDecision, PortError, PortErrorKind, CoreErrorKind, ServiceErrorKind, RetryDisposition } from './errors';
export { isApplied, isSuccessfulOutcome, runVerdict, entriesAfterRun } from './outcome';
export type { RunVerdict } from './outcome';
export type { ExecuteOptions } from './executor';
export { CountingPort } from './counting-port';
export type { CallCounts } from './counting-port';
export { reconcile, unreadPlan } from './reconcile';
export type { ReconcileInput } from './reconcile';
export { renderPlan, renderResult } from './render';
