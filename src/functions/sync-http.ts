/**
 * `POST /api/sync` (function key): schedules a sync now, or a backfill with `since`, for one tenant or for
 * every enabled tenant, and answers 202 with the jobs it put on the queue.
 *   body (optional): { "tenantId": "<guid>", "since": "2026-11-01T00:00:00Z" }
 */
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import type { Relay } from '../relay';
import { httpFunction, HttpProblem, jsonResponse, readBody, parseJson, validate } from '../http';
import { newSyncJob } from '../sync/sync-jobs';
import { toTicks } from '../defender/timestamp';

const bodySchema = z
  .object({
    tenantId: z
      .string()
      .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
        message: 'must be a tenant id (GUID)',
      })
      .optional(),
    since: z
      .string()
      .superRefine((v, ctx) => {
        let ms: number;
        try {
          ms = Number(toTicks(v) / 10_000n);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time such as 2026-11-01T00:00:00Z' });
          return;
        }
        if (ms > Date.now()) ctx.addIssue({ code: 'custom', message: 'must not be in the future' });
      })
      .optional(),
  })
  .strict();

async function readOptionalJson(request: HttpRequest): Promise<unknown> {
  const raw = await readBody(request);
  if (raw.length === 0) return {};
  return parseJson(raw, request.headers.get('content-type'));
}

export function syncHttpHandler(relay: Pick<Relay, 'tenants' | 'syncJobs'>) {
  return httpFunction({ methods: ['POST'] }, async (request) => {
    const body = validate(bodySchema, await readOptionalJson(request));
    const enabled = await relay.tenants.enabledTenantIds();
    let tenantIds = enabled;
    if (body.tenantId) {
      const tenantId = body.tenantId.toLowerCase();
      if (!enabled.includes(tenantId)) {
        throw new HttpProblem(404, `Tenant ${tenantId} is not an enabled tenant of this relay.`, {
          code: 'tenant-not-found',
          errors: [{ field: 'tenantId', message: 'is not an enabled tenant' }],
        });
      }
      tenantIds = [tenantId];
    }
    const reason = body.since ? 'backfill' : 'on-demand';
    const jobs = tenantIds.map((t) => newSyncJob(t, reason, body.since));
    await relay.syncJobs.enqueue(jobs);
    return jsonResponse(202, {
      scheduled: jobs.map((j) => ({
        jobId: j.jobId,
        tenantId: j.tenantId,
        reason: j.reason,
        since: j.since ?? null,
      })),
      queue: relay.syncJobs.name,
    });
  });
}
