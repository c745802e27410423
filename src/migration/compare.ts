/**
 * What `migrate check` compares: the incidents the two APIs returned for one tenant over one window, by
 * incident id. An incident only one API returned; a version whose last-update times differ (compared as
 * instants, 100-ns ticks: such a version would get another version key and be delivered again after a
 * switch); and, for versions with equal times, the header fields that still differ once both APIs' values
 * are normalized (severity, status, classification, determination, assignee, tags, alert count).
 */
import type { IncidentHeader, IncidentVersion } from '../defender/incident';
import { toTicks } from '../defender/timestamp';

export const COMPARED_FIELDS = [
  'severity',
  'status',
  'classification',
  'determination',
  'assignedTo',
  'tags',
  'alertCount',
] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number];

export interface TimeDifference {
  incidentId: string;
  graph: string;
  legacy: string;
}

export interface FieldDifference {
  incidentId: string;
  field: ComparedField;
  graph: string;
  legacy: string;
}

export interface Comparison {
  graphCount: number;
  legacyCount: number;
  onlyGraph: string[];
  onlyLegacy: string[];
  timeDifferences: TimeDifference[];
  fieldDifferences: FieldDifference[];
}

/** Each field as both APIs mean it: Graph's camelCase, the legacy API's `NotAvailable` as `unknown`, no case in names. */
export function normalizedField(h: IncidentHeader, field: ComparedField): string {
  switch (field) {
    case 'classification':
    case 'determination': {
      const v = (h[field] ?? 'unknown').toLowerCase();
      return v === 'notavailable' ? 'unknown' : v;
    }
    case 'assignedTo':
      return (h.assignedTo ?? '').trim().toLowerCase();
    case 'tags':
      return [...new Set(h.tags.map((t) => t.trim()))].sort().join(', ');
    case 'alertCount':
      return String(h.alertCount);
    default:
      return h[field];
  }
}

export function compareReads(
  graph: Map<string, IncidentVersion>,
  legacy: Map<string, IncidentVersion>,
): Comparison {
  const out: Comparison = {
    graphCount: graph.size,
    legacyCount: legacy.size,
    onlyGraph: [...graph.keys()].filter((id) => !legacy.has(id)).sort(byNumber),
    onlyLegacy: [...legacy.keys()].filter((id) => !graph.has(id)).sort(byNumber),
    timeDifferences: [],
    fieldDifferences: [],
  };
  for (const [id, g] of [...graph].sort(([a], [b]) => byNumber(a, b))) {
    const l = legacy.get(id);
    if (!l) continue;
    if (toTicks(g.header.lastUpdate) !== toTicks(l.header.lastUpdate)) {
      out.timeDifferences.push({ incidentId: id, graph: g.header.lastUpdate, legacy: l.header.lastUpdate });
      continue;
    }
    out.fieldDifferences.push(...fieldDifferences(id, g.header, l.header));
  }
  return out;
}

function fieldDifferences(id: string, g: IncidentHeader, l: IncidentHeader): FieldDifference[] {
  return COMPARED_FIELDS.flatMap((field) => {
    const [gv, lv] = [normalizedField(g, field), normalizedField(l, field)];
    return gv === lv ? [] : [{ incidentId: id, field, graph: gv, legacy: lv }];
  });
}

function byNumber(a: string, b: string): number {
  return a.length - b.length || a.localeCompare(b);
}
