import type { IncidentEvent } from './envelope';

/**
 * Where incident events go. `deliver` resolves only when the destination has accepted every event
 * (a storage queue stored it; a webhook delivery was put on its outbox queue); it throws otherwise, and
 * the sync then does not move its checkpoint past them.
 */
export interface Destination {
  readonly name: string;
  deliver(events: IncidentEvent[]): Promise<DeliveryReport | void>;
}

export interface DeliveryReport {
  /**
   * Events sent again after the service failed to answer a send that it may have carried out: each may
   * now be there twice (with the same `id`).
   */
  possibleRepeats: number;
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after all settle. */
export async function forEachLimit<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}
