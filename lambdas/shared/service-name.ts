/** The service's name: Powertools' service, the metrics' `service` dimension, the change events' source. */
export const SERVICE_NAME = 'bunq-ip-reconciler';
