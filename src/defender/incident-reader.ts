/**
 * How the sync reads a tenant's incidents: one small interface, one module per way of reading
 * (`graph-windows.ts` for Graph, `legacy-offsets.ts` for the legacy API). A reader streams pages (memory
 * does not grow with the backlog) and says after each page where its traversal stands, so a run stopped
 * by its budget or a crash resumes it, and up to which time everything has been read (the checkpoint).
 * No reader relies on an ordering the API does not document and keep.
 */
import type { RunBudget } from './http';
import type { ApiFlavour, IncidentVersion } from './incident';
import type { Logger } from '../telemetry';

export interface ReadStart {
  /** Read versions updated at or after this time (canonical timestamp). */
  from: string;
  /**
   * Read only versions updated before this time (canonical timestamp): a window with an explicit end (the
   * completeness sweep's, which ends before the sync's overlap). Absent: up to the server's clock.
   */
  until?: string;
  /** A traversal's position from an earlier step (`ReadStep.position`), to resume it. */
  position?: string;
  budget?: RunBudget;
  log?: Logger;
}

export interface ReadStep {
  incidents: IncidentVersion[];
  /** Items that could not be read (no id or last-update time); reported, never silently dropped. */
  malformed: string[];
  /** Where the traversal resumes after this page; null when the traversal is complete. */
  position: string | null;
  /**
   * Every version updated from `from` up to (not including) this time has been read by now: the
   * checkpoint may move here once this page and those before it are delivered. Absent: not yet known.
   */
  checkpoint?: string;
  /**
   * Every version updated before this time (and visible when the traversal began) has been read by now,
   * when later than `checkpoint`: the time the lag is measured from (src/sync/lag.ts). Absent: the
   * checkpoint. Legacy: the server's time of the traversal's first answer, on its last step.
   */
  readThrough?: string;
}

export interface IncidentReader {
  readonly api: ApiFlavour;
  read(tenantId: string, start: ReadStart): AsyncGenerator<ReadStep>;
}

export const GRAPH_PAGE_SIZE = 50;
export const LEGACY_PAGE_SIZE = 100;
