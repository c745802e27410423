/**
 * Timer trigger on SYNC_SCHEDULE. It only schedules: one sync job per enabled tenant on the jobs queue;
 * the syncWorker function works each job, so hundreds of tenants spread over the app's instances. Each
 * round warns of the tenants that still read the legacy API (retired 2027-02-01).
 */
import type { InvocationContext, Timer } from '@azure/functions';
import type { Relay } from '../relay';
import { newSyncJob } from '../sync/sync-jobs';
import { legacyWarning } from '../defender/legacy-retirement';

export function syncSchedulerHandler(relay: Pick<Relay, 'tenants' | 'syncJobs'>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) context.warn('The sync timer is running late (past due).');
    const tenants = (await relay.tenants.list()).filter((t) => t.status === 'enabled');
    const tenantIds = tenants.map((t) => t.tenantId);
    for (const t of tenants) if (t.api === 'legacy') context.warn(legacyWarning(t.tenantId));
    const now = new Date();
    await relay.syncJobs.enqueue(
      tenantIds.map((tenantId) => newSyncJob(tenantId, 'schedule', undefined, now)),
    );
    context.log(`Scheduled a sync of ${tenantIds.length} tenant(s) on queue ${relay.syncJobs.name}.`);
  };
}
