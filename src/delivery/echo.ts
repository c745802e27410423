/**
 * Echo marking (docs/two-way.md): a version the relay itself produced by applying an inbound update
 * carries the CloudEvents extension attributes `relayechosender` (the sender's name) and `relayechoid`
 * (the inbound message's webhook-id), and a webhook destination may drop the echoes of named senders
 * (`dropEchoesOf` in WEBHOOKS), so a ticket is not updated by its own change.
 */
import type { IncidentEvent } from './envelope';
import type { Echo } from '../two-way/version-ledger';

export function withEcho(event: IncidentEvent, echo: Echo | undefined): IncidentEvent {
  return echo ? { ...event, relayechosender: echo.sender, relayechoid: echo.webhookId } : event;
}

/** Whether a destination drops this event: an echo of one of the senders it names. */
export function isDroppedEcho(dropEchoesOf: readonly string[] | undefined, event: IncidentEvent): boolean {
  const sender = event.relayechosender?.toLowerCase();
  return !!sender && !!dropEchoesOf?.some((s) => s.toLowerCase() === sender);
}
