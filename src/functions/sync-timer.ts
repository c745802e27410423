/** Timer trigger: on SYNC_SCHEDULE, syncs the configured tenants. Thin: the work is in src/sync. */
import type { InvocationContext, Timer } from '@azure/functions';
import type { Relay } from '../relay';

export function syncTimerHandler(relay: Pick<Relay, 'syncAll'>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) context.warn('The sync timer is running late (past due).');
    const summary = await relay.syncAll({ log: (m) => context.log(m) });
    context.log(
      `Synced ${summary.tenants} tenant(s): ${summary.incidentsDelivered} delivered, ${summary.incidentsSuppressed} repeats suppressed, ${summary.apiCalls} API calls, ${summary.errors.length} failed.`,
    );
    for (const e of summary.errors) context.error(`Tenant ${e.tenantId} failed: ${e.error}`);
  };
}
