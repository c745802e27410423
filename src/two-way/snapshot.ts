/**
 * The update-able fields of one incident version, in the relay's (Graph's) vocabulary whatever API read
 * it: what conflict detection compares. Comments are append-only on both APIs, so they never conflict.
 */
import type { IncidentHeader } from '../defender/incident';
import type { IncidentUpdate } from '../defender/actions';

export interface FieldSnapshot {
  status: string;
  assignedTo: string | null;
  classification: string | null;
  determination: string | null;
  /** Sorted: Defender keeps no order a person relies on. */
  tags: string[];
}

export const SNAPSHOT_FIELDS = ['status', 'assignedTo', 'classification', 'determination', 'tags'] as const;
export type SnapshotField = (typeof SNAPSHOT_FIELDS)[number];

export function snapshotOf(header: IncidentHeader): FieldSnapshot {
  return {
    status: header.status,
    assignedTo: header.assignedTo,
    classification: header.classification,
    determination: header.determination,
    tags: [...header.tags].sort(),
  };
}

/** The snapshot fields an update sets. A classification recalculates the determination, so it touches both. */
export function touchedFields(update: IncidentUpdate): SnapshotField[] {
  const touched = new Set<SnapshotField>();
  if (update.status !== undefined) touched.add('status');
  if (update.assignedTo !== undefined) touched.add('assignedTo');
  if (update.classification !== undefined) touched.add('classification').add('determination');
  if (update.determination !== undefined) touched.add('determination');
  if (update.tags !== undefined) touched.add('tags');
  return SNAPSHOT_FIELDS.filter((f) => touched.has(f));
}

export function sameValue(a: FieldSnapshot[SnapshotField], b: FieldSnapshot[SnapshotField]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
