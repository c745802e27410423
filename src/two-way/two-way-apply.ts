/**
 * Applies one inbound update the two-way way (docs/two-way.md): the incident is read first, merges are
 * followed (or the update refused with the incident it was merged into), the update is checked against its
 * base version, a comment already posted by an earlier attempt is not posted again, and the version the
 * update produced is recorded as the sender's echo.
 */
import type { InboundSender } from '../config/settings';
import type { DefenderActions, IncidentUpdate, UpdateResult } from '../defender/actions';
import type { ApiFlavour, IncidentVersion } from '../defender/incident';
import { toTicks } from '../defender/timestamp';
import { parseBaseVersion } from './base-version';
import { commentMarker, hasMarkedComment, withMarker } from './comment-marker';
import { findConflicts, type FieldConflict } from './conflicts';
import { snapshotOf } from './snapshot';
import type { VersionLedger } from './version-ledger';

export interface TwoWayInput {
  sender: InboundSender;
  webhookId: string;
  tenantId: string;
  incidentId: string;
  update: IncidentUpdate;
  /** The version the sender based the update on (last-update time or event id), already validated. */
  baseVersion?: string;
}

export type TwoWayOutcome =
  | { kind: 'applied'; result: UpdateResult; mergedFrom?: string; commentAlreadyThere: boolean }
  | { kind: 'conflict'; conflicts: FieldConflict[]; current: IncidentVersion }
  | { kind: 'merged'; into: string; current: IncidentVersion }
  | { kind: 'base-required'; current: IncidentVersion; mergedFrom?: string };

/** A chain of merges longer than this is not followed (Defender merges into a live incident). */
const MAX_REDIRECTS = 5;

export class TwoWayApply {
  constructor(
    private readonly actions: DefenderActions,
    private readonly ledger: VersionLedger,
    private readonly api: ApiFlavour,
    private readonly log: (m: string) => void = () => undefined,
  ) {}

  async apply(input: TwoWayInput): Promise<TwoWayOutcome> {
    const first = await this.actions.getIncident(input.tenantId, this.api, input.incidentId);
    const current = await this.followMerges(input.tenantId, first);
    const merged = current !== first;
    if (merged && input.sender.onMerged === 'refuse')
      return { kind: 'merged', into: current.header.incidentId, current };
    const mergedFrom = merged ? input.incidentId : undefined;
    // A base names the incident the sender saw: after a merge it says nothing about the target.
    const base = merged ? undefined : input.baseVersion;
    if (base === undefined && input.sender.requireBase) return { kind: 'base-required', current, mergedFrom };
    if (base !== undefined) {
      const conflicts = await this.conflicts(input, base, current);
      if (conflicts.length > 0 && !input.sender.wins) return { kind: 'conflict', conflicts, current };
      if (conflicts.length > 0)
        this.log(
          `inbound update ${input.webhookId} from sender "${input.sender.name}": conflict in ${conflicts.map((c) => c.field).join(', ')} overridden (the sender wins)`,
        );
    }
    return this.write(input, current, mergedFrom);
  }

  /** The live incident a redirected one was merged into (through a chain of merges). */
  private async followMerges(tenantId: string, version: IncidentVersion): Promise<IncidentVersion> {
    let v = version;
    for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
      const into = v.header.status === 'redirected' ? v.header.redirectIncidentId : null;
      if (!into || into === v.header.incidentId) return v;
      v = await this.actions.getIncident(tenantId, this.api, into);
    }
    return v;
  }

  private async conflicts(
    input: TwoWayInput,
    baseVersion: string,
    current: IncidentVersion,
  ): Promise<FieldConflict[]> {
    const parsed = parseBaseVersion(baseVersion, input.tenantId, input.incidentId);
    if (!parsed.ok) throw new Error(`baseVersion ${parsed.message}`);
    const currentTicks = toTicks(current.header.lastUpdate);
    if (parsed.ticks >= currentTicks) return [];
    return findConflicts({
      update: input.update,
      baseTicks: parsed.ticks,
      base: await this.ledger.snapshot(input.tenantId, input.incidentId, parsed.ticks),
      currentTicks,
      current: snapshotOf(current.header),
    });
  }

  /** The update with its comment marked, or without a comment an earlier attempt already posted. */
  private async write(
    input: TwoWayInput,
    current: IncidentVersion,
    mergedFrom: string | undefined,
  ): Promise<TwoWayOutcome> {
    const { comment, ...fields } = input.update;
    const marker = commentMarker(input.sender.name, input.webhookId);
    const commentAlreadyThere = comment !== undefined && hasMarkedComment(current.raw, marker);
    const update: IncidentUpdate =
      comment === undefined || commentAlreadyThere
        ? fields
        : { ...fields, comment: withMarker(comment, marker) };
    if (Object.values(update).every((v) => v === undefined)) {
      return {
        kind: 'applied',
        result: { api: this.api, incident: current.header, commentAdded: false },
        mergedFrom,
        commentAlreadyThere,
      };
    }
    const { version, ...result } = await this.actions.updateIncidentVersion(
      input.tenantId,
      this.api,
      current.header.incidentId,
      update,
    );
    await this.ledger
      .recordEcho(version, { sender: input.sender.name, webhookId: input.webhookId })
      .catch((e: Error) =>
        this.log(
          `inbound update ${input.webhookId}: the echo of version ${version.versionKey} was not recorded (${e.message}); the sync delivers it unmarked`,
        ),
      );
    return { kind: 'applied', result, mergedFrom, commentAlreadyThere };
  }
}
