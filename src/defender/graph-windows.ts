/**
 * The Graph security API's incident read, correct without any ordering of last-update times.
 *
 * Measured on a real tenant: `$orderby=lastUpdateDateTime` is accepted and silently ignored, and without
 * an `$orderby` results come in no time order, not even the same one twice; `$orderby=createdDateTime` is
 * honoured; `$count=true` with `$filter` gives the filtered total. So a traversal reads a fixed window of
 * last-update times [A, B): A is where the run starts (checkpoint minus overlap), B one second past the
 * server's clock (its `Date` header, whole seconds) when the traversal's first page came back, so what was
 * updated just before that answer is in this traversal. B stays fixed for the whole traversal, across
 * runs: an incident updated while it pages gets a last-update time past B (or in B's last second), so its
 * new version is read by the next traversal, and nothing inside the window is ever paged by an offset
 * while it changes. The checkpoint at the end is the server's time of that first answer (B less one
 * second): the next traversal reads that last second again, whatever the overlap.
 *
 * Inside a window the incidents are paged by key on their creation time, which never changes:
 * `createdDateTime ge C`, `$orderby=createdDateTime asc`, C the latest creation time of the page before
 * (the incidents created at C are read again; the sync suppresses them). That is one call per 50
 * incidents. Every page is checked to be in creation order; a page that is not (the API stopped honouring
 * the ordering) makes the window fall back to the order-free way, with a log line and a metric:
 * the window is split until each part fits one page, which `@odata.count` tells. A part one tick wide that
 * still holds more than a page (incidents sharing one 100-ns stamp) is paged by `$skip`, walking the
 * offsets again until every incident its count names has been seen.
 *
 * A large window (over twice `chunkSize`) is split first into parts of about `chunkSize` incidents, oldest first, so
 * the checkpoint moves part by part and the set of versions a run keeps in memory stays small. The
 * position after each page (B and the parts still to read) is returned, so a run stopped by its budget,
 * or a crash, resumes the traversal.
 */
import type { DefenderHttp } from './http';
import { DefenderApiError } from './errors';
import type { IncidentReader, ReadStart, ReadStep } from './incident-reader';
import type { IncidentVersion } from './incident';
import { GRAPH_MAX_SKIP, GraphPager, type GraphPage, type GraphQuery } from './graph-pages';
import { msToTicks, ticksToIso, toTicks } from './timestamp';
import { emitMetric, type Logger } from '../telemetry';

export const GRAPH_CHUNK_SIZE = 1000;
/** B is this far past the server's `Date` (whole seconds), and the final checkpoint this far before B. */
const ONE_SECOND = 10_000_000n;
/** Parts a window is split into at most at once (a part still too large is split again when read). */
const MAX_CHUNKS = 64;
const MAX_SPLIT = 16;

interface Window {
  start: bigint;
  end: bigint;
  /** `created`: paged by creation time; `split`: order-free, split until it fits a page. */
  mode: 'created' | 'split';
  createdFrom?: bigint;
}

interface Traversal {
  end: bigint;
  /** The end was given (`ReadStart.until`), not taken from the server's clock: the final checkpoint is it. */
  fixed?: boolean;
  /** The parts of [checkpoint, end) still to read, oldest first, contiguous. */
  windows: Window[];
}

export interface GraphWindowReaderOptions {
  chunkSize?: number;
  /** Used for B only when the API sends no `Date` header. */
  now?: () => number;
}

export class GraphWindowReader implements IncidentReader {
  readonly api = 'graph' as const;
  private readonly chunkSize: number;
  private readonly now: () => number;

  constructor(
    private readonly http: DefenderHttp,
    private readonly baseUrl: string,
    private readonly portalUrl: string,
    options: GraphWindowReaderOptions = {},
  ) {
    this.chunkSize = options.chunkSize ?? GRAPH_CHUNK_SIZE;
    this.now = options.now ?? Date.now;
  }

  async *read(tenantId: string, start: ReadStart): AsyncGenerator<ReadStep> {
    const pager = new GraphPager(this.http, this.baseUrl, this.portalUrl, tenantId, start.budget, start.log);
    const ctx: Ctx = { tenantId, log: start.log, pager };
    let t = parsePosition(start.position);
    if (!t && start.until !== undefined) {
      t = fixedWindow(toTicks(start.from), toTicks(start.until));
      if (t.windows.length === 0) yield step(t, [], []);
    }
    if (!t) {
      // The first page has no upper bound: its answer says what time it is at the server (B).
      const from = toTicks(start.from);
      const first = await pager.page({ start: from, byCreated: true });
      const end = msToTicks(first.serverTime ?? this.now()) + ONE_SECOND;
      if (end <= from) {
        yield { incidents: [], malformed: first.malformed, position: null };
        return;
      }
      t = { end, windows: [{ start: from, end, mode: 'created' }] };
      // What was updated at or after B belongs to the next traversal.
      const inWindow = first.incidents.filter((i) => toTicks(i.header.lastUpdate) < end);
      this.advance(ctx, t, first);
      yield step(t, inWindow, first.malformed);
    }
    while (t.windows.length > 0) {
      const w = t.windows[0] as Window;
      if (w.mode === 'split' && w.end - w.start === 1n) {
        yield* this.readTick(ctx, t, w);
        continue;
      }
      const page = await pager.page(query(w));
      this.advance(ctx, t, page);
      yield step(t, page.incidents, page.malformed);
    }
  }

  /** What a page says about its window: done, split, or where the next page starts. */
  private advance(ctx: Ctx, t: Traversal, page: GraphPage): void {
    const w = t.windows[0] as Window;
    if (w.mode === 'created') this.advanceByCreated(ctx, t, w, page);
    else this.advanceOrderFree(t, w, page);
  }

  private advanceByCreated(ctx: Ctx, t: Traversal, w: Window, page: GraphPage): void {
    const created = page.incidents.map(createdTicks);
    if (!inCreationOrder(created, w.createdFrom)) {
      this.fallBack(ctx, w, 'a page came back out of creation-time order');
      return;
    }
    if (page.count < page.top || (page.total !== undefined && page.total <= page.count)) {
      t.windows.shift();
      return;
    }
    // Cut only what is well over a part's size: a part a little over it costs less read whole than cut.
    if (w.createdFrom === undefined && page.total !== undefined && page.total > 2 * this.chunkSize) {
      if (w.end - w.start > 1n) {
        replaceHead(t, chunks(w, Math.min(MAX_CHUNKS, Math.ceil(page.total / this.chunkSize)), 'created'));
        return;
      }
    }
    const last = created.reduce<bigint | undefined>(
      (m, c) => (c !== undefined && (m === undefined || c > m) ? c : m),
      undefined,
    );
    if (last === undefined || last === w.createdFrom) {
      // A whole page created at one time: the key cannot move past it.
      this.fallBack(ctx, w, 'a whole page shares one creation time');
      return;
    }
    w.createdFrom = last;
  }

  private advanceOrderFree(t: Traversal, w: Window, page: GraphPage): void {
    const complete = page.total !== undefined ? page.total <= page.count : page.count < page.top;
    if (complete) {
      t.windows.shift();
      return;
    }
    const parts = Math.max(
      2,
      Math.min(MAX_SPLIT, Math.ceil((page.total ?? page.count * 2) / (page.top * 0.8))),
    );
    replaceHead(t, chunks(w, parts, 'split'));
  }

  private fallBack(ctx: Ctx, w: Window, reason: string): void {
    ctx.log?.(
      `tenant ${ctx.tenantId}: ${reason} (window ${ticksToIso(w.start)} to ${ticksToIso(w.end)}); reading it the order-free way`,
    );
    emitMetric(ctx.log ?? (() => undefined), 'relay.read.fallback', {
      tenantId: ctx.tenantId,
      api: 'graph',
      way: 'order-free',
      reason,
    });
    w.mode = 'split';
    delete w.createdFrom;
  }

  /**
   * A window one tick wide with more incidents than a page: paged by `$skip`, until every incident the
   * count says is there has been seen. The order inside one tick is the service's and need not be the same
   * twice (the simulator's is not), so offsets are walked again, from 0, until the count is reached; an
   * incident that changes meanwhile leaves the window (its new time is past B) and lowers the count.
   */
  private async *readTick(ctx: Ctx, t: Traversal, w: Window): AsyncGenerator<ReadStep> {
    const seen = new Set<string>();
    let skip = 0;
    for (let pages = 1; ; pages++) {
      const page = await ctx.pager.page({ start: w.start, end: w.end, byCreated: false, skip });
      for (const i of page.incidents) seen.add(i.header.incidentId);
      yield step(t, page.incidents, page.malformed);
      const total = page.total ?? (page.count < page.top ? seen.size : Infinity);
      if (seen.size >= total) break;
      if (pages >= tickPageLimit(total, page.top)) throw tooManyAtOneTime(w, page.top);
      skip = page.count < page.top || skip + page.top > GRAPH_MAX_SKIP ? 0 : skip + page.top;
    }
    t.windows.shift();
    yield step(t, [], []);
  }
}

/** Pages a one-tick window may take: a few walks over its offsets, within Graph's `$skip` limit. */
function tickPageLimit(total: number, top: number): number {
  const walk = Math.ceil(Math.min(total, GRAPH_MAX_SKIP + top) / top);
  return 6 * walk + 4;
}

interface Ctx {
  tenantId: string;
  log?: Logger;
  pager: GraphPager;
}

function query(w: Window): GraphQuery {
  return w.mode === 'created'
    ? { start: w.start, end: w.end, createdFrom: w.createdFrom, byCreated: true }
    : { start: w.start, end: w.end, byCreated: false };
}

function step(t: Traversal, incidents: IncidentVersion[], malformed: string[]): ReadStep {
  const head = t.windows[0];
  const last = t.fixed ? t.end : t.end - ONE_SECOND;
  return {
    incidents,
    malformed,
    position: head ? serialize(t) : null,
    checkpoint: ticksToIso(head && head.start < last ? head.start : last),
  };
}

/** A window with an explicit end [from, until): paged like any other, its first page bounded too. */
function fixedWindow(from: bigint, until: bigint): Traversal {
  return {
    end: until,
    fixed: true,
    windows: from < until ? [{ start: from, end: until, mode: 'created' }] : [],
  };
}

function createdTicks(i: IncidentVersion): bigint | undefined {
  const c = i.raw.createdDateTime;
  if (typeof c !== 'string') return undefined;
  try {
    return toTicks(c);
  } catch {
    return undefined;
  }
}

function inCreationOrder(created: (bigint | undefined)[], from: bigint | undefined): boolean {
  let previous = from;
  for (const c of created) {
    if (c === undefined) return false;
    if (previous !== undefined && c < previous) return false;
    previous = c;
  }
  return true;
}

/** `parts` contiguous windows of (about) equal span covering `w`. */
function chunks(w: Window, parts: number, mode: Window['mode']): Window[] {
  const width = w.end - w.start;
  const n = BigInt(parts) > width ? width : BigInt(parts);
  const out: Window[] = [];
  for (let i = 0n; i < n; i++) {
    out.push({
      start: w.start + (width * i) / n,
      end: i === n - 1n ? w.end : w.start + (width * (i + 1n)) / n,
      mode,
    });
  }
  return out;
}

function replaceHead(t: Traversal, parts: Window[]): void {
  t.windows.splice(0, 1, ...parts);
}

function tooManyAtOneTime(w: Window, pageSize: number): DefenderApiError {
  return new DefenderApiError(
    `more than ${GRAPH_MAX_SKIP + pageSize} incidents share the last-update time ${ticksToIso(w.start)}, or they keep changing: ` +
      "Graph's $skip limit (500) does not reach them all; the checkpoint stays before them and the next run tries again",
    0,
    'too_many_at_one_time',
    false,
  );
}

/** The position: B and the windows still to read, ticks as decimal strings. */
function serialize(t: Traversal): string {
  return JSON.stringify({
    b: t.end.toString(),
    ...(t.fixed ? { f: 1 } : {}),
    w: t.windows.map((w) => [
      w.start.toString(),
      w.end.toString(),
      w.mode === 'created' ? 'c' : 's',
      w.createdFrom?.toString() ?? '',
    ]),
  });
}

function parsePosition(position: string | undefined): Traversal | undefined {
  if (!position) return undefined;
  try {
    const p = JSON.parse(position) as { b?: unknown; w?: unknown; f?: unknown };
    if (typeof p.b !== 'string' || !Array.isArray(p.w)) return undefined;
    const windows = p.w.map((row: unknown): Window => {
      const [s, e, m, c] = row as [string, string, string, string];
      const w: Window = { start: BigInt(s), end: BigInt(e), mode: m === 's' ? 'split' : 'created' };
      if (c) w.createdFrom = BigInt(c);
      if (w.end <= w.start) throw new Error('empty window');
      return w;
    });
    return { end: BigInt(p.b), windows, ...(p.f === 1 ? { fixed: true } : {}) };
  } catch {
    return undefined;
  }
}
