/** Environment variables the Lambda handlers read; the stack sets them. */
export const EnvName = {
  DesiredTable: 'DESIRED_TABLE_NAME',
  StateTable: 'STATE_TABLE_NAME',
  QueueUrl: 'RECONCILE_QUEUE_URL',
  SecretPrefix: 'SECRET_NAME_PREFIX',
  HistoryTtlDays: 'HISTORY_TTL_DAYS',
  /**
   * The worker's fixed egress IPv4 addresses, comma separated (the fixed-egress modes set it): the
   * IPs every run calls bunq from, never deactivated. Unset: the worker cannot tell its IP.
   */
  EgressIps: 'EGRESS_IPS',
} as const;
