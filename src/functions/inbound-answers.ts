/**
 * The inbound webhook's answers to each outcome (docs/two-way.md, docs/inbound-webhooks.md): 200 applied
 * (with the version it produced, the sender's next base), 202 queued for retry, and the refusals as RFC
 * 9457 problems carrying the incident's current state: 409 a repeated message id, 409 a conflict with a
 * change made in Defender since the base version, 409 an incident merged into another (when the sender
 * refuses to follow merges), 428 a base version the sender's configuration requires.
 */
import type { HttpResponseInit } from '@azure/functions';
import { HttpProblem, jsonResponse } from '../http';
import type { ReceiveOutcome } from '../inbound/inbound-updates';
import type { IncidentVersion } from '../defender/incident';
import { versionKey } from '../defender/incident';
import { snapshotOf } from '../two-way/snapshot';

/** The incident's update-able state, and its version: what a sender rebases on. */
export function currentState(v: IncidentVersion): Record<string, unknown> {
  return {
    incidentId: v.header.incidentId,
    version: v.versionKey,
    lastUpdate: v.header.lastUpdate,
    ...snapshotOf(v.header),
  };
}

export function answer(webhookId: string, outcome: ReceiveOutcome): HttpResponseInit {
  switch (outcome.kind) {
    case 'duplicate':
      throw new HttpProblem(409, `Message ${webhookId} was received before; it is not applied again.`, {
        code: 'duplicate-message',
        errors: [{ field: 'header.webhook-id', message: 'was already received' }],
      });
    case 'conflict':
      throw new HttpProblem(
        409,
        `Incident ${outcome.current.header.incidentId} changed in Defender since the base version in ${outcome.conflicts.map((c) => c.field).join(', ')}; nothing was applied. Rebase on the current state and send again with its version as baseVersion.`,
        {
          code: 'update-conflict',
          errors: outcome.conflicts.map((c) => ({
            field: c.field,
            message:
              c.base === undefined
                ? 'may have changed since the base version (the relay holds no record of that version)'
                : 'changed in Defender since the base version',
          })),
          extensions: { current: currentState(outcome.current), conflicts: outcome.conflicts },
        },
      );
    case 'merged':
      throw new HttpProblem(
        409,
        `The incident was merged into incident ${outcome.into}; nothing was applied. Send the update for incident ${outcome.into}.`,
        {
          code: 'incident-merged',
          errors: [{ field: 'incidentId', message: `was merged into incident ${outcome.into}` }],
          extensions: { mergedInto: outcome.into, current: currentState(outcome.current) },
        },
      );
    case 'base-required':
      throw new HttpProblem(
        428,
        "This sender's updates must name the version they are based on: send baseVersion (the event id or the incident's last-update time).",
        {
          code: 'base-version-required',
          title: 'Precondition required',
          errors: [{ field: 'baseVersion', message: "is required by this sender's configuration" }],
          extensions: {
            current: currentState(outcome.current),
            ...(outcome.mergedFrom ? { mergedInto: outcome.current.header.incidentId } : {}),
          },
        },
      );
    case 'applied': {
      const h = outcome.result.incident;
      return jsonResponse(200, {
        status: 'applied',
        incident: h,
        version: versionKey(h.tenantId, h.incidentId, h.lastUpdate),
        ...(outcome.mergedFrom ? { mergedFrom: outcome.mergedFrom, mergedInto: h.incidentId } : {}),
        ...(outcome.commentAlreadyThere ? { comment: 'already added by an earlier attempt' } : {}),
      });
    }
    default:
      return jsonResponse(202, {
        status: 'queued',
        detail: 'Defender did not accept the update now; it is kept and retried from the retry queue.',
      });
  }
}
