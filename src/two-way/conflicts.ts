/**
 * Conflict detection against a base version (docs/two-way.md): an update conflicts when Defender's
 * incident changed, since the version the sender based it on, in a field the update touches. A base as new
 * as the current version (or newer) is no conflict; a base the relay holds no snapshot of is treated as a
 * conflict in every touched field (the sender rebases on the current state it gets back). A field that
 * already holds the value the update asks for is no conflict: nothing would be overwritten (this is also
 * what lets a retried update pass over its own earlier, partly applied attempt).
 */
import type { IncidentUpdate } from '../defender/actions';
import { sameValue, touchedFields, type FieldSnapshot, type SnapshotField } from './snapshot';

export interface FieldConflict {
  field: SnapshotField;
  /** Undefined: the relay holds no snapshot of the base version. */
  base?: FieldSnapshot[SnapshotField];
  current: FieldSnapshot[SnapshotField];
}

/**
 * What the update asks each touched field to become (undefined: the service recalculates it, as the
 * determination after a classification alone).
 */
function desired(update: IncidentUpdate, field: SnapshotField): FieldSnapshot[SnapshotField] | undefined {
  switch (field) {
    case 'status':
      return update.status;
    case 'assignedTo':
      return update.assignedTo === undefined ? undefined : update.assignedTo;
    case 'classification':
      return update.classification;
    case 'determination':
      return update.determination;
    case 'tags':
      return update.tags ? [...update.tags].sort() : undefined;
  }
}

export interface ConflictInput {
  update: IncidentUpdate;
  baseTicks: bigint;
  /** The fields at the base version, when the relay recorded them. */
  base: FieldSnapshot | undefined;
  currentTicks: bigint;
  current: FieldSnapshot;
}

export function findConflicts(input: ConflictInput): FieldConflict[] {
  if (input.baseTicks >= input.currentTicks) return [];
  return (
    touchedFields(input.update)
      .filter((f) => !input.base || !sameValue(input.base[f], input.current[f]))
      // Already what the update asks for (an earlier attempt of it, or the same decision): nothing is overwritten.
      .filter((f) => {
        const want = desired(input.update, f);
        return want === undefined || !sameValue(want, input.current[f]);
      })
      .map((field) => ({
        field,
        ...(input.base ? { base: input.base[field] } : {}),
        current: input.current[field],
      }))
  );
}
