/**
 * Advanced hunting, both APIs: Graph `runHuntingQuery` and the legacy `/api/advancedhunting/run`, with
 * the service's row cap and timeout (`Simulator.huntingLimits`).
 */
import type * as http from 'node:http';
import { parseJsonObject } from './api-input';
import type { SimContext } from './context';
import { ODataError } from './incidents';
import type { DefenderApi } from './types';
import { sendJson } from './util';

/**
 * Advanced hunting: any KQL is accepted; the rows are the tenant's alerts as the AlertInfo table
 * (newest first), limited by a trailing `take N` / `limit N` (default 100,000 rows as the service caps).
 */
export async function hunting(
  ctx: SimContext,
  api: DefenderApi,
  tid: string,
  body: string,
  res: http.ServerResponse,
): Promise<void> {
  const input = parseJsonObject(body);
  // runHuntingQuery takes `Query` and an optional `Timespan`; the legacy API `Query` only
  // (api-advanced-hunting): anything else is refused, as the services refuse unknown properties.
  const known = api === 'graph' ? ['query', 'timespan'] : ['query'];
  for (const k of Object.keys(input)) {
    if (!known.includes(k.toLowerCase()))
      throw new ODataError(
        `The request body has an unknown property '${k}'${api === 'legacy' ? ': the advanced hunting API takes Query only' : ''}.`,
      );
  }
  const query = input.Query ?? input.query;
  if (typeof query !== 'string' || query.trim() === '') throw new ODataError("Property 'Query' is required.");
  const take = /\b(?:take|limit)\s+(\d+)\s*$/i.exec(query.trim());
  const cap = ctx.huntingLimitState.maxRows ?? 100_000;
  const max = take ? Number(take[1]) : Infinity;
  if (ctx.huntingLimitState.timeoutMarker && query.includes(ctx.huntingLimitState.timeoutMarker)) {
    throw new ODataError(
      'Query execution has exceeded the allowed limits. The query execution was timed out after 3 minutes. Optimize the query and try again.',
    );
  }
  const rows = ctx.incidents
    .visible(tid)
    .flatMap((v) =>
      v.data.alerts.map((a) => ({
        Timestamp: a.createdDateTime,
        AlertId: a.id,
        Title: a.title,
        Category: a.category,
        Severity: pascal(a.severity),
        ServiceSource: a.serviceSource,
        DetectionSource: a.detectionSource,
        AttackTechniques: JSON.stringify(a.mitreTechniques),
      })),
    )
    .sort((x, y) => (x.Timestamp < y.Timestamp ? 1 : -1))
    .slice(0, max);
  if (rows.length > cap) {
    throw new ODataError(
      `Query result exceeded the allowed limit of ${cap} rows. Reduce the result size, for example with take or summarize.`,
    );
  }
  const columns: [string, string][] = [
    ['Timestamp', 'DateTime'],
    ['AlertId', 'String'],
    ['Title', 'String'],
    ['Category', 'String'],
    ['Severity', 'String'],
    ['ServiceSource', 'String'],
    ['DetectionSource', 'String'],
    ['AttackTechniques', 'String'],
  ];
  if (api === 'graph') {
    return sendJson(res, 200, {
      '@odata.context': `${ctx.urls.graphBaseUrl}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults`,
      // As the runHuntingQuery page's examples name them: `DateTime`, `String` (no `System.` prefix).
      schema: columns.map(([name, type]) => ({ name, type })),
      results: rows,
    });
  }
  return sendJson(res, 200, {
    Stats: {
      ExecutionTime: 0.05,
      resource_usage: { cache: {}, cpu: {}, memory: {} },
      dataset_statistics: [{ table_row_count: rows.length, table_size: 0 }],
    },
    Schema: columns.map(([Name, Type]) => ({ Name, Type })),
    Results: rows,
  });
}

function pascal(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}
