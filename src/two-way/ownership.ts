/**
 * Field ownership: an inbound sender may set only the fields its configuration grants (INBOUND_SENDERS
 * `fields`, docs/two-way.md). The check is on the body's own field names, before anything is read or
 * written, so a refused update costs Defender nothing.
 */
import type { FieldError } from '../http/problem';
import { OWNED_FIELDS, type OwnedField } from '../config/inbound-senders';

/** The update fields a body sets that the sender does not own, each as a field error. */
export function unownedFields(body: Record<string, unknown>, owned: readonly OwnedField[]): FieldError[] {
  const granted = new Set<string>(owned);
  return OWNED_FIELDS.filter((f) => body[f] !== undefined && !granted.has(f)).map((field) => ({
    field,
    message: `is not a field this sender may set (it may set ${owned.join(', ')})`,
  }));
}
