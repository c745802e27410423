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
 * The time read completely (the lag's reference, `ReadStep.readThrough`) is the server's time (`Date`)
 * of the traversal's first answer: every version updated before it was in the result from the first page
 * on, and so has been read by the end, unless an incident moved, when it is the moved incident's older
 * time (the checkpoint). It is kept in the position, so a resumed traversal keeps its first answer's time.
 *
 * A window with an explicit end (`until`, the completeness sweep's) is read the same way, without an upper
 * bound on the filter (which would let an incident updated meanwhile leave the result and shift the
 * offsets): versions at or after `until` are dropped here, and the checkpoint is at most `until`.
 */
import type { DefenderHttp } from './http';
import type { IncidentReader, ReadStart, ReadStep } from './incident-reader';
import { LEGACY_PAGE_SIZE } from './incident-reader';
import { odataQuery, readPage, sameOriginNextLink, type ODataPage } from './odata-page';
import { canonicalTimestamp, msToTicks, ticksToIso, toTicks } from './timestamp';

interface LegacyPosition {
  skip: number;
  /** The latest last-update time read so far (canonical). */
  maxSeen?: string;
  /** The oldest earlier version of an incident that changed while the traversal paged (canonical). */
  movedFloor?: string;
  /** The server's time of the traversal's first answer (canonical). */
  startedAt?: string;
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
    let startedAt = at.startedAt;
    // A traversal resumed from a position written before positions kept their first answer's time proves
    // nothing past its checkpoint.
    const knowsStart = !start.position || startedAt !== undefined;
    const until = start.until !== undefined ? toTicks(start.until) : undefined;
    const seenVersion = new Map<string, bigint>();
    let sawNextLink = false;
    let url = this.url(filter, skip);
    for (;;) {
      // Without a Date header, the local clock before the request (a version visible then was updated before).
      const asked = Date.now();
      const { body, serverTime } = await this.http.request<ODataPage>({
        tenantId,
        api: 'legacy',
        method: 'GET',
        url,
        budget: start.budget,
      });
      if (knowsStart) startedAt ??= ticksToIso(msToTicks(serverTime ?? asked));
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
        const through = end !== undefined && end === movedFloor ? ticksToIso(end) : startedAt;
        // A window with an end is read completely up to that end, not past it.
        step.readThrough =
          through !== undefined && until !== undefined && toTicks(through) > until
            ? ticksToIso(until)
            : through;
      } else {
        const position: LegacyPosition = {
          skip,
          maxSeen: maxSeen !== undefined ? ticksToIso(maxSeen) : undefined,
          movedFloor: movedFloor !== undefined ? ticksToIso(movedFloor) : undefined,
          startedAt,
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
      startedAt: typeof p.startedAt === 'string' ? p.startedAt : undefined,
    };
  } catch {
    return { skip: 0 };
  }
}
