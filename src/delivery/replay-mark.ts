/**
 * The replay mark: a CloudEvents extension attribute `relayreplay` (lower-case letters, as CloudEvents
 * 1.0 requires of attribute names) holding the time of the replay. A replayed event keeps its `id`.
 */
import type { IncidentEvent } from './envelope';

export const REPLAY_ATTRIBUTE = 'relayreplay';

export type ReplayedEvent = IncidentEvent & { relayreplay: string };

export function asReplay(event: IncidentEvent, at: string): ReplayedEvent {
  return { ...event, [REPLAY_ATTRIBUTE]: at } as ReplayedEvent;
}
