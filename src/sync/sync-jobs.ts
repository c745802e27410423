/**
 * Sync jobs: the timer (and `POST /api/sync`) put one job per tenant on a queue; a queue-triggered worker
 * syncs one tenant per job, so hundreds of tenants spread over the app's instances. Messages are base64
 * JSON, as the Functions queue trigger decodes them.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { QueueClient } from '@azure/storage-queue';
import { encodeMessage } from '../delivery/storage-queue';
import { onceReady } from '../storage/once-ready';

export const syncJobSchema = z.object({
  jobId: z.string().min(1).max(100),
  tenantId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: 'is not a tenant id (GUID)',
  }),
  reason: z.enum(['schedule', 'on-demand', 'backfill']),
  /** Backfill: read from this time instead of the checkpoint. */
  since: z.string().optional(),
  requestedAt: z.string(),
});
export type SyncJob = z.infer<typeof syncJobSchema>;

export function newSyncJob(
  tenantId: string,
  reason: SyncJob['reason'],
  since?: string,
  now = new Date(),
): SyncJob {
  return {
    jobId: crypto.randomUUID(),
    tenantId: tenantId.toLowerCase(),
    reason,
    since,
    requestedAt: now.toISOString(),
  };
}

/** A queue of jobs (sync jobs by default; the completeness sweep's too, src/sweep/sweep-jobs.ts). */
export class SyncJobQueue<Job extends object = SyncJob> {
  constructor(private readonly queue: QueueClient) {}

  get name(): string {
    return this.queue.name;
  }

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() => this.queue.createIfNotExists());

  async enqueue(jobs: Job[], options: { delaySeconds?: number } = {}): Promise<void> {
    await this.ensure();
    for (const job of jobs) {
      await this.queue.sendMessage(encodeMessage(JSON.stringify(job)), {
        visibilityTimeout: options.delaySeconds,
      });
    }
  }
}
