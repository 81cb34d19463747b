import { SERVICE_NAME } from './service-name';

/** EventBridge change events (lambdas/aws/events.ts): the source every rule matches on. */
export const EVENT_SOURCE = SERVICE_NAME;
export const EventDetailType = {
  /** An IP added as a new ACTIVE entry, or an INACTIVE entry re-activated (detail.action says which). */
  IpActivated: 'IP Activated',
  IpDeactivated: 'IP Deactivated',
  /** A planned operation a guard held back (nothing changed at bunq). */
  OperationHeld: 'Operation Held',
} as const;
