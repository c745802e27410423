/**
 * Streams the incidents updated since a time, a page at a time (memory does not grow with the backlog).
 * Graph: `$filter=lastUpdateDateTime ge …`, `$orderby=lastUpdateDateTime asc`, `$top=50`, `$expand=alerts`,
 * then `@odata.nextLink`. Legacy: `$filter=lastUpdateTime ge …`, `$top=100`, `$skip` (or `@odata.nextLink`
 * when it is sent); its results are not ordered by time. A next link is followed only to the API's own
 * origin, so a token is never sent elsewhere.
 */
import type { DefenderHttp, RunBudget } from './http';
import { DefenderApiError } from './errors';
import { MalformedIncidentError, readIncident, type ApiFlavour, type IncidentVersion } from './incident';
import { canonicalTimestamp } from './timestamp';

export interface IncidentPage {
  incidents: IncidentVersion[];
  /** Items that could not be read (no id or last-update time); reported, never silently dropped. */
  malformed: string[];
}

export interface IncidentSource {
  readonly api: ApiFlavour;
  /** Whether pages come in ascending last-update order (Graph) or not (legacy). */
  readonly ordered: boolean;
  pages(tenantId: string, since: string, budget?: RunBudget, until?: string): AsyncGenerator<IncidentPage>;
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

  async *pages(
    tenantId: string,
    since: string,
    budget?: RunBudget,
    until?: string,
  ): AsyncGenerator<IncidentPage> {
    const filter = [`lastUpdateDateTime ge ${canonicalTimestamp(since)}`];
    if (until) filter.push(`lastUpdateDateTime lt ${canonicalTimestamp(until)}`);
    const query = new URLSearchParams({
      $filter: filter.join(' and '),
      $orderby: 'lastUpdateDateTime asc',
      $top: String(this.pageSize),
      $expand: 'alerts',
    });
    let url: string | undefined =
      `${this.baseUrl}/v1.0/security/incidents?${query.toString().replace(/\+/g, '%20')}`;
    while (url) {
      const body: ODataPage = await this.http.json<ODataPage>({
        tenantId,
        api: 'graph',
        method: 'GET',
        url,
        budget,
      });
      const page = readPage(body, 'graph', tenantId, this.portalUrl);
      url = sameOriginNextLink(body['@odata.nextLink'], this.baseUrl);
      yield { incidents: page.incidents, malformed: page.malformed };
    }
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
    until?: string,
  ): AsyncGenerator<IncidentPage> {
    const filter = [`lastUpdateTime ge ${canonicalTimestamp(since)}`];
    if (until) filter.push(`lastUpdateTime lt ${canonicalTimestamp(until)}`);
    let skip = 0;
    let sawNextLink = false;
    let url = this.url(filter, skip);
    for (;;) {
      const body = await this.http.json<ODataPage>({ tenantId, api: 'legacy', method: 'GET', url, budget });
      const page = readPage(body, 'legacy', tenantId, this.portalUrl);
      yield { incidents: page.incidents, malformed: page.malformed };
      const next = sameOriginNextLink(body['@odata.nextLink'], this.baseUrl);
      skip += page.count;
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

  private url(filter: string[], skip: number): string {
    const query = new URLSearchParams({
      $filter: filter.join(' and '),
      $top: String(this.pageSize),
      $skip: String(skip),
    });
    return `${this.baseUrl}/api/incidents?${query.toString().replace(/\+/g, '%20')}`;
  }
}
