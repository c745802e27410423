/**
 * Streams the incidents updated since a time, a page at a time (memory does not grow with the backlog).
 *
 * Graph (ordered): `$filter=lastUpdateDateTime ge T`, `$orderby=lastUpdateDateTime asc`, `$top=50`,
 * `$expand=alerts`, paged by key: each next page asks again from the last page's latest time. Offset
 * paging (Graph's own `@odata.nextLink`, a `$skip`) would skip an incident whenever one read earlier is
 * updated meanwhile and moves to the end of the order; asking from a time cannot. The incidents sharing
 * that time are read again (the sync suppresses them). Only when a whole page shares one time does it
 * follow the next link through that block.
 *
 * Legacy (not ordered by time): `$filter=lastUpdateTime ge T`, `$top=100`, `$skip` (or `@odata.nextLink`
 * when it is sent). With no upper bound on the filter an incident never leaves the result, so offsets stay
 * valid; each page reports the offset after it, so a run stopped by its budget can resume there.
 *
 * A next link is followed only to the API's own origin, so a token is never sent elsewhere.
 */
import type { DefenderHttp, RunBudget } from './http';
import { DefenderApiError } from './errors';
import { MalformedIncidentError, readIncident, type ApiFlavour, type IncidentVersion } from './incident';
import { canonicalTimestamp, ticksToIso, toTicks } from './timestamp';

export interface IncidentPage {
  incidents: IncidentVersion[];
  /** Items that could not be read (no id or last-update time); reported, never silently dropped. */
  malformed: string[];
  /** Unordered sources: the `$skip` offset after this page, to resume an interrupted traversal. */
  nextSkip?: number;
}

export interface IncidentSource {
  readonly api: ApiFlavour;
  /** Whether pages come in ascending last-update order (Graph) or not (legacy). */
  readonly ordered: boolean;
  /** `startSkip` resumes an unordered traversal of the same `since` at an offset. */
  pages(
    tenantId: string,
    since: string,
    budget?: RunBudget,
    startSkip?: number,
  ): AsyncGenerator<IncidentPage>;
}

export const GRAPH_PAGE_SIZE = 50;
export const LEGACY_PAGE_SIZE = 100;

interface ODataPage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
}

function readPage(
  body: ODataPage,
  api: ApiFlavour,
  tenantId: string,
  portalUrl: string,
): IncidentPage & { count: number } {
  if (!Array.isArray(body.value)) {
    throw new DefenderApiError(
      `${api === 'graph' ? 'Microsoft Graph' : 'the Defender XDR API'} answered without a "value" array`,
      200,
      'malformed_response',
      true,
    );
  }
  const page: IncidentPage & { count: number } = { incidents: [], malformed: [], count: body.value.length };
  for (const item of body.value) {
    if (typeof item !== 'object' || item === null) {
      page.malformed.push('an item that is not an object');
      continue;
    }
    try {
      page.incidents.push(readIncident(item as Record<string, unknown>, api, tenantId, portalUrl));
    } catch (error) {
      if (!(error instanceof MalformedIncidentError)) throw error;
      page.malformed.push(error.message);
    }
  }
  return page;
}

function sameOriginNextLink(next: unknown, base: string): string | undefined {
  if (typeof next !== 'string' || next === '') return undefined;
  const url = new URL(next, base);
  if (url.origin !== new URL(base).origin) {
    throw new DefenderApiError(
      `refusing to follow @odata.nextLink to another origin (${url.origin})`,
      200,
      'foreign_next_link',
      false,
    );
  }
  return url.toString();
}

export class GraphIncidentSource implements IncidentSource {
  readonly api = 'graph' as const;
  readonly ordered = true;

  constructor(
    private readonly http: DefenderHttp,
    private readonly baseUrl: string,
    private readonly portalUrl: string,
    private readonly pageSize = GRAPH_PAGE_SIZE,
  ) {}

  async *pages(tenantId: string, since: string, budget?: RunBudget): AsyncGenerator<IncidentPage> {
    let from = toTicks(since);
    let url: string | undefined = this.url(from);
    while (url) {
      const body: ODataPage = await this.http.json<ODataPage>({
        tenantId,
        api: 'graph',
        method: 'GET',
        url,
        budget,
      });
      const page = readPage(body, 'graph', tenantId, this.portalUrl);
      const next = sameOriginNextLink(body['@odata.nextLink'], this.baseUrl);
      yield { incidents: page.incidents, malformed: page.malformed };
      if (!next) return;
      const latest = page.incidents.reduce((max, i) => {
        const t = toTicks(i.header.lastUpdate);
        return t > max ? t : max;
      }, from);
      // A page that is all one time (the one asked from) would come back again: walk that block by link.
      if (latest > from) {
        from = latest;
        url = this.url(from);
      } else {
        url = next;
      }
    }
  }

  private url(from: bigint): string {
    const query = new URLSearchParams({
      $filter: `lastUpdateDateTime ge ${ticksToIso(from)}`,
      $orderby: 'lastUpdateDateTime asc',
      $top: String(this.pageSize),
      $expand: 'alerts',
    });
    return `${this.baseUrl}/v1.0/security/incidents?${query.toString().replace(/\+/g, '%20')}`;
  }
}

export class LegacyIncidentSource implements IncidentSource {
  readonly api = 'legacy' as const;
  readonly ordered = false;

  constructor(
    private readonly http: DefenderHttp,
    private readonly baseUrl: string,
    private readonly portalUrl: string,
    private readonly pageSize = LEGACY_PAGE_SIZE,
  ) {}

  async *pages(
    tenantId: string,
    since: string,
    budget?: RunBudget,
    startSkip = 0,
  ): AsyncGenerator<IncidentPage> {
    const filter = `lastUpdateTime ge ${canonicalTimestamp(since)}`;
    let skip = startSkip;
    let sawNextLink = false;
    let url = this.url(filter, skip);
    for (;;) {
      const body = await this.http.json<ODataPage>({ tenantId, api: 'legacy', method: 'GET', url, budget });
      const page = readPage(body, 'legacy', tenantId, this.portalUrl);
      const next = sameOriginNextLink(body['@odata.nextLink'], this.baseUrl);
      skip += page.count;
      yield { incidents: page.incidents, malformed: page.malformed, nextSkip: skip };
      if (next) {
        sawNextLink = true;
        url = next;
        continue;
      }
      // No next link: a short page is the last one. A full page is the last one too when this API has been
      // sending next links (it would have sent one); otherwise page on with $skip.
      if (page.count < this.pageSize || sawNextLink) return;
      url = this.url(filter, skip);
    }
  }

  private url(filter: string, skip: number): string {
    const query = new URLSearchParams({ $filter: filter, $top: String(this.pageSize), $skip: String(skip) });
    return `${this.baseUrl}/api/incidents?${query.toString().replace(/\+/g, '%20')}`;
  }
}
