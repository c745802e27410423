/**
 * One page of Graph's `GET /security/incidents` for a window of last-update times, with alerts, and the
 * ways around `$expand=alerts` failing. Measured in the field: with `$filter`, `$expand=alerts` answers
 * HTTP 500 persistently on large tenants (a page carries too many alerts), which left another product's
 * cursor stuck forever. When a page with alerts still fails with 5xx after the retries, the same incidents
 * are read another way, so the cursor moves and no alert is dropped: first smaller pages (10 incidents),
 * then the page without alerts and each incident with its alerts (`GET /security/incidents/{id}
 * ?$expand=alerts`). The way used is logged and kept for the rest of the traversal.
 *
 * Request hygiene (Graph "List incidents": documented query options `$count`, `$filter`, `$skip`, `$top`,
 * `$expand`; `$top` at most 50, `$skip` at most 500, above them HTTP 400): never more.
 */
import type { DefenderHttp, RunBudget } from './http';
import { DefenderApiError } from './errors';
import { GRAPH_PAGE_SIZE } from './incident-reader';
import { readIncident, type IncidentVersion } from './incident';
import { odataCount, odataQuery, readPage, type ODataPage } from './odata-page';
import { ticksToIso } from './timestamp';
import { emitMetric, type Logger } from '../telemetry';

export const GRAPH_MAX_SKIP = 500;
/** The page size after `$expand=alerts` failed on a full page. */
export const GRAPH_SMALL_PAGE = 10;

export interface GraphQuery {
  /** Last-update window [start, end) in ticks; `end` undefined: no upper bound. */
  start: bigint;
  end?: bigint;
  /** Keyset on the creation time: `createdDateTime ge` this (the API's own string), ordered by it. */
  createdFrom?: bigint;
  /** Ask for `$orderby=createdDateTime asc` (the one ordering measured to be honoured). */
  byCreated: boolean;
  skip?: number;
}

export interface GraphPage {
  incidents: IncidentVersion[];
  malformed: string[];
  /** Items on the page. */
  count: number;
  /** `@odata.count`: how many incidents match the query in all. */
  total?: number;
  /** The page size asked for (smaller after an `$expand` failure). */
  top: number;
  /** The server's clock when it answered (ms epoch). */
  serverTime?: number;
}

type Way = 'expand' | 'small-pages' | 'per-incident';

/** One traversal's pager: the way around an `$expand` failure, once found, is kept for the traversal. */
export class GraphPager {
  private way: Way = 'expand';

  constructor(
    private readonly http: DefenderHttp,
    private readonly baseUrl: string,
    private readonly portalUrl: string,
    private readonly tenantId: string,
    private readonly budget: RunBudget | undefined,
    private readonly log: Logger | undefined,
  ) {}

  get pageSize(): number {
    return this.way === 'expand' ? GRAPH_PAGE_SIZE : GRAPH_SMALL_PAGE;
  }

  async page(query: GraphQuery): Promise<GraphPage> {
    for (;;) {
      try {
        if (this.way === 'per-incident') return await this.pagePerIncident(query);
        return await this.list(query, this.pageSize, true);
      } catch (error) {
        if (!isServerFailure(error) || this.way === 'per-incident') throw error;
        this.fallBack(error as DefenderApiError);
      }
    }
  }

  private fallBack(error: DefenderApiError): void {
    const from = this.way;
    this.way = from === 'expand' ? 'small-pages' : 'per-incident';
    const how =
      this.way === 'small-pages'
        ? `reading ${GRAPH_SMALL_PAGE} incidents a page`
        : 'reading the page without alerts and each incident with its alerts';
    this.log?.(
      `tenant ${this.tenantId}: Microsoft Graph failed a page of incidents with alerts (${error.status}) after its retries; ${how}`,
    );
    emitMetric(this.log ?? (() => undefined), 'relay.read.fallback', {
      tenantId: this.tenantId,
      api: 'graph',
      way: this.way,
      reason: `expand_alerts_${error.status}`,
    });
  }

  private async list(query: GraphQuery, top: number, expand: boolean): Promise<GraphPage> {
    const { body, serverTime } = await this.http.request<ODataPage>({
      tenantId: this.tenantId,
      api: 'graph',
      method: 'GET',
      url: this.url(query, top, expand),
      budget: this.budget,
    });
    const page = readPage(body, 'graph', this.tenantId, this.portalUrl);
    return { ...page, total: odataCount(body), top, serverTime };
  }

  /** The page without alerts, then each incident with its alerts. */
  private async pagePerIncident(query: GraphQuery): Promise<GraphPage> {
    const page = await this.list(query, GRAPH_SMALL_PAGE, false);
    const incidents: IncidentVersion[] = [];
    for (const listed of page.incidents) {
      const raw = await this.incidentWithAlerts(listed.header.incidentId);
      if (!raw) continue;
      // The incident as it is now: when it changed since the list, this is its newer version.
      incidents.push(readIncident(raw, 'graph', this.tenantId, this.portalUrl));
    }
    return { ...page, incidents };
  }

  private async incidentWithAlerts(id: string): Promise<Record<string, unknown> | undefined> {
    try {
      const raw = await this.http.json<Record<string, unknown>>({
        tenantId: this.tenantId,
        api: 'graph',
        method: 'GET',
        url: `${this.baseUrl}/v1.0/security/incidents/${encodeURIComponent(id)}?$expand=alerts`,
        budget: this.budget,
      });
      delete raw['@odata.context'];
      return raw;
    } catch (error) {
      // Listed a moment ago and gone now: there is no version left to deliver.
      if (!(error instanceof DefenderApiError) || error.status !== 404) throw error;
      this.log?.(`tenant ${this.tenantId}: incident ${id} was listed but is gone (404); skipped`);
      return undefined;
    }
  }

  private url(query: GraphQuery, top: number, expand: boolean): string {
    const clauses = [`lastUpdateDateTime ge ${ticksToIso(query.start)}`];
    if (query.end !== undefined) clauses.push(`lastUpdateDateTime lt ${ticksToIso(query.end)}`);
    if (query.createdFrom !== undefined) clauses.push(`createdDateTime ge ${ticksToIso(query.createdFrom)}`);
    const params: Record<string, string> = {
      $filter: clauses.join(' and '),
      $count: 'true',
      $top: String(top),
    };
    if (query.byCreated) params.$orderby = 'createdDateTime asc';
    if (query.skip) {
      if (query.skip > GRAPH_MAX_SKIP)
        throw new RangeError(`$skip ${query.skip} is above Graph's ${GRAPH_MAX_SKIP}`);
      params.$skip = String(query.skip);
    }
    if (expand) params.$expand = 'alerts';
    return `${this.baseUrl}/v1.0/security/incidents?${odataQuery(params)}`;
  }
}

function isServerFailure(error: unknown): boolean {
  return error instanceof DefenderApiError && error.status >= 500;
}
