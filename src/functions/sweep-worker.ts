/**
 * Queue trigger on SWEEP_JOBS_QUEUE_NAME: sweeps the one tenant a job names, under the sweep's own lease
 * (a sweep never blocks the sync while it reads; see src/sweep/sweep-repair.ts for the repair). A sweep
 * that finds another sweep of the tenant running ends (that one covers it); one stopped by its budget
 * resumes at the next schedule. A malformed job throws, so the host moves it to the poison queue.
 */
import type { InvocationContext, StorageQueueFunctionOptions } from '@azure/functions';
import type { Relay } from '../relay';
import { sweepJobSchema } from '../sweep/sweep-jobs';
import { reportSweepMetrics, sweepLine } from '../sweep/sweep-metrics';

export function sweepWorkerHandler(relay: Pick<Relay, 'sweepTenant'>) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const parsed = sweepJobSchema.safeParse(message);
    if (!parsed.success) {
      throw new Error(
        `not a sweep job: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'message'} ${i.message}`).join('; ')}`,
      );
    }
    const job = parsed.data;
    const log = (line: string) => context.log(line);
    const result = await relay.sweepTenant(job.tenantId, { hours: job.hours, log });
    reportSweepMetrics(log, result);
    const line = `Tenant ${job.tenantId} completeness sweep ${sweepLine(result)}.`;
    if (result.outcome === 'failed') context.error(`${line} ${result.error ?? ''}`);
    else if (result.missing > 0) context.warn(line);
    else context.log(line);
  };
}

export function sweepWorkerOptions(
  relay: Pick<Relay, 'sweepTenant' | 'config'>,
): StorageQueueFunctionOptions {
  return {
    queueName: relay.config.sweep.jobsQueue,
    connection: 'AzureWebJobsStorage',
    handler: sweepWorkerHandler(relay),
  };
}
