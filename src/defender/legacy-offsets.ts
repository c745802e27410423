/**
 * The legacy Defender XDR API's incident read (`GET /api/incidents`): not ordered by time and with no
 * documented `$orderby`, so it is one traversal by offset: `$filter=lastUpdateTime ge T`, `$top=100`,
 * `$skip` (or `@odata.nextLink` when it is sent). With no upper bound on the filter an incident never
 * leaves the result, so offsets stay valid; each page reports the offset after it, so a run stopped by its
 * budget resumes there.
 *
 * The checkpoint moves only when the whole result has been read: to the latest last-update time read,
 * unless an incident was seen in two versions during the traversal (it was updated while the result was
 * paged; had the API's order moved it, offset paging may have skipped a neighbour), in which case it stays
 * at that incident's older time and the next run reads that stretch again.
 *
 * A window with an explicit end (`until`, the completeness sweep's) is read the same way, without an upper
 * bound on the filter (which would let an incident updated meanwhile leave the result and shift the
 * offsets): versions at or after `until` are dropped here, and the checkpoint is at most `until`.
 */
import type { DefenderHttp } from './http';
import type { IncidentReader, ReadStart, ReadStep } from './incident-reader';
import { LEGACY_PAGE_SIZE } from './incident-reader';
import { odataQuery, readPage, sameOriginNextLink, type ODataPage } from './odata-page';
import { canonicalTimestamp, ticksToIso, toTicks } from './timestamp';

interface LegacyPosition {
  skip: number;
  /** The latest last-update time read so far (canonical). */
  maxSeen?: string;
  /** The oldest earlier version of an incident that changed while the traversal paged (canonical). */
  movedFloor?: string;
}

export class LegacyOffsetReader implements IncidentReader {
  readonly api = 'legacy' as const;

  constructor(
    private readonly http: DefenderHttp,
    private readonly baseUrl: string,
    private readonly portalUrl: string,
    private readonly pageSize = LEGACY_PAGE_SIZE,
  ) {}

  async *read(tenantId: string, start: ReadStart): AsyncGenerator<ReadStep> {
    const filter = `lastUpdateTime ge ${canonicalTimestamp(start.from)}`;
    const at = parsePosition(start.position);
    let skip = at.skip;
    let maxSeen = at.maxSeen !== undefined ? toTicks(at.maxSeen) : undefined;
    let movedFloor = at.movedFloor !== undefined ? toTicks(at.movedFloor) : undefined;
    const until = start.until !== undefined ? toTicks(start.until) : undefined;
    const seenVersion = new Map<string, bigint>();
    let sawNextLink = false;
    let url = this.url(filter, skip);
    for (;;) {
      const body = await this.http.json<ODataPage>({
        tenantId,
        api: 'legacy',
        method: 'GET',
        url,
        budget: start.budget,
      });
      const page = readPage(body, 'legacy', tenantId, this.portalUrl);
      const next = sameOriginNextLink(body['@odata.nextLink'], this.baseUrl);
      skip += page.count;
      for (const version of page.incidents) {
        const ticks = toTicks(version.header.lastUpdate);
        if (maxSeen === undefined || ticks > maxSeen) maxSeen = ticks;
        const earlier = seenVersion.get(version.header.incidentId);
        if (earlier !== undefined && earlier !== ticks) {
          const older = earlier < ticks ? earlier : ticks;
          if (movedFloor === undefined || older < movedFloor) movedFloor = older;
        }
        if (earlier === undefined || ticks > earlier) seenVersion.set(version.header.incidentId, ticks);
      }
      // No next link: a short page is the last one. A full page is the last one too when this API has been
      // sending next links (it would have sent one); otherwise page on with $skip.
      const last = !next && (page.count < this.pageSize || sawNextLink);
      const incidents =
        until === undefined
          ? page.incidents
          : page.incidents.filter((i) => toTicks(i.header.lastUpdate) < until);
      const step: ReadStep = { incidents, malformed: page.malformed, position: null };
      if (last) {
        let end =
          movedFloor !== undefined && maxSeen !== undefined && movedFloor < maxSeen ? movedFloor : maxSeen;
        if (until !== undefined && (end === undefined || end > until)) end = until;
        if (end !== undefined) step.checkpoint = ticksToIso(end);
      } else {
        const position: LegacyPosition = {
          skip,
          maxSeen: maxSeen !== undefined ? ticksToIso(maxSeen) : undefined,
          movedFloor: movedFloor !== undefined ? ticksToIso(movedFloor) : undefined,
        };
        step.position = JSON.stringify(position);
      }
      yield step;
      if (last) return;
      if (next) {
        sawNextLink = true;
        url = next;
      } else {
        url = this.url(filter, skip);
      }
    }
  }

  private url(filter: string, skip: number): string {
    const query = odataQuery({ $filter: filter, $top: String(this.pageSize), $skip: String(skip) });
    return `${this.baseUrl}/api/incidents?${query}`;
  }
}

function parsePosition(position: string | undefined): LegacyPosition {
  if (!position) return { skip: 0 };
  try {
    const p = JSON.parse(position) as Partial<LegacyPosition>;
    return {
      skip: Number.isInteger(p.skip) && (p.skip as number) >= 0 ? (p.skip as number) : 0,
      maxSeen: typeof p.maxSeen === 'string' ? p.maxSeen : undefined,
      movedFloor: typeof p.movedFloor === 'string' ? p.movedFloor : undefined,
    };
  } catch {
    return { skip: 0 };
  }
}
