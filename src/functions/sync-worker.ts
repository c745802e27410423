/**
 * Queue trigger on SYNC_JOBS_QUEUE_NAME: syncs the one tenant a job names, under the tenant's lease.
 * A tenant's failure is recorded (state and registry) and reported as telemetry, and the job ends: the next
 * schedule tries again. A backfill that finds the tenant busy is put back with a delay, so it is not lost;
 * a scheduled job that finds it busy ends (the running sync covers it). A malformed job throws, so the host
 * moves it to the poison queue where it can be seen.
 */
import type { InvocationContext, StorageQueueFunctionOptions } from '@azure/functions';
import type { Relay } from '../relay';
import { syncJobSchema } from '../sync/sync-jobs';
import { reportMetrics } from '../sync/sync-tenants';

export const BUSY_RETRY_DELAY_SECONDS = 60;

export function syncWorkerHandler(relay: Pick<Relay, 'syncTenant' | 'syncJobs'>) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const parsed = syncJobSchema.safeParse(message);
    if (!parsed.success) {
      throw new Error(
        `not a sync job: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'message'} ${i.message}`).join('; ')}`,
      );
    }
    const job = parsed.data;
    const log = (line: string) => context.log(line);
    const result = await relay.syncTenant(job.tenantId, { since: job.since, log });
    reportMetrics(log, result);
    if (result.outcome === 'busy') {
      if (job.reason === 'schedule') {
        context.log(`Tenant ${job.tenantId} is already being synced; this scheduled job ends.`);
        return;
      }
      await relay.syncJobs.enqueue([job], { delaySeconds: BUSY_RETRY_DELAY_SECONDS });
      context.log(
        `Tenant ${job.tenantId} is busy; the ${job.reason} job ${job.jobId} is retried in ${BUSY_RETRY_DELAY_SECONDS} s.`,
      );
      return;
    }
    const line = `Tenant ${job.tenantId} (${job.reason}): ${result.outcome}, ${result.delivered} delivered, ${result.suppressed} repeats suppressed, ${result.apiCalls} API calls.`;
    if (result.outcome === 'failed') context.error(`${line} ${result.error ?? ''}`);
    else context.log(line);
  };
}

export function syncWorkerOptions(
  relay: Pick<Relay, 'syncTenant' | 'syncJobs' | 'config'>,
): StorageQueueFunctionOptions {
  return {
    queueName: relay.config.sync.jobsQueue,
    connection: 'AzureWebJobsStorage',
    handler: syncWorkerHandler(relay),
  };
}
