/**
 * Health: `GET /api/health` (anonymous) is liveness only, with no details; `GET /api/health/deep`
 * (function key) runs every dependency check (src/health/checks.ts) and answers 200 when healthy or
 * degraded, 503 when a required check fails. `GET /api/health?deep=true` is accepted on the deep route
 * too; on the anonymous route it answers 401 pointing to the keyed one (the host checks keys per function).
 */
import { z } from 'zod';
import { HttpProblem, httpFunction, jsonResponse, validateQuery } from '../http';
import { runHealthChecks } from '../health/checks';

const flag = z.enum(['true', 'false', '1', '0', '']).optional();
const livenessQuery = z.object({ deep: flag }).loose();

export function healthHandler() {
  return httpFunction({ methods: ['GET', 'HEAD'] }, async (request) => {
    const { deep } = validateQuery(request, livenessQuery);
    if (deep === 'true' || deep === '1') {
      throw new HttpProblem(
        401,
        'Deep health checks need the function key: call GET /api/health/deep?code=<function key>.',
        {
          code: 'function-key-required',
        },
      );
    }
    return jsonResponse(200, { status: 'alive' });
  });
}

export function healthDeepHandler(relay: Parameters<typeof runHealthChecks>[0]) {
  return httpFunction({ methods: ['GET'] }, async (request, context) => {
    validateQuery(request, livenessQuery);
    const report = await runHealthChecks(relay);
    for (const c of report.checks.filter((x) => !x.ok)) context.warn(`health: ${c.name}: ${c.detail}`);
    return jsonResponse(report.status === 'unhealthy' ? 503 : 200, report);
  });
}
