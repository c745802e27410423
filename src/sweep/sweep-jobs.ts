/**
 * Sweep jobs: the sweep timer puts one job per enabled tenant on SWEEP_JOBS_QUEUE_NAME; a queue-triggered
 * worker sweeps one tenant per job (the same fan-out as the sync's, src/sync/sync-jobs.ts).
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { syncJobSchema } from '../sync/sync-jobs';

export const sweepJobSchema = z.object({
  kind: z.literal('sweep'),
  jobId: syncJobSchema.shape.jobId,
  tenantId: syncJobSchema.shape.tenantId,
  reason: z.enum(['schedule', 'on-demand']),
  /** Check this many hours back instead of SWEEP_WINDOW_HOURS. */
  hours: z.number().int().min(1).max(168).optional(),
  requestedAt: z.string(),
});
export type SweepJob = z.infer<typeof sweepJobSchema>;

export function newSweepJob(tenantId: string, reason: SweepJob['reason'], now = new Date()): SweepJob {
  return {
    kind: 'sweep',
    jobId: crypto.randomUUID(),
    tenantId: tenantId.toLowerCase(),
    reason,
    requestedAt: now.toISOString(),
  };
}
