/**
 * Timer trigger on SYNC_SCHEDULE. It only schedules: one sync job per enabled tenant on the jobs queue;
 * the syncWorker function works each job, so hundreds of tenants spread over the app's instances.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import type { Relay } from '../relay';
import { newSyncJob } from '../sync/sync-jobs';

export function syncSchedulerHandler(relay: Pick<Relay, 'tenants' | 'syncJobs'>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) context.warn('The sync timer is running late (past due).');
    const tenantIds = await relay.tenants.enabledTenantIds();
    const now = new Date();
    await relay.syncJobs.enqueue(
      tenantIds.map((tenantId) => newSyncJob(tenantId, 'schedule', undefined, now)),
    );
    context.log(`Scheduled a sync of ${tenantIds.length} tenant(s) on queue ${relay.syncJobs.name}.`);
  };
}
