/**
 * Timer trigger on SWEEP_SCHEDULE (hourly by default). It only schedules: one sweep job per enabled tenant
 * on the sweep jobs queue; the sweepWorker function works each job (the sync's fan-out, for the sweep).
 */
import type { InvocationContext, Timer } from '@azure/functions';
import type { Relay } from '../relay';
import { newSweepJob } from '../sweep/sweep-jobs';

export function sweepSchedulerHandler(relay: Pick<Relay, 'tenants' | 'sweepJobs'>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) context.warn('The completeness sweep timer is running late (past due).');
    const tenantIds = await relay.tenants.enabledTenantIds();
    const now = new Date();
    await relay.sweepJobs.enqueue(tenantIds.map((tenantId) => newSweepJob(tenantId, 'schedule', now)));
    context.log(
      `Scheduled a completeness sweep of ${tenantIds.length} tenant(s) on queue ${relay.sweepJobs.name}.`,
    );
  };
}
