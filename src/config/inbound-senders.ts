/**
 * INBOUND_SENDERS: the systems that may call the inbound webhook (a customer's ticketing system, a SOAR
 * playbook), a JSON array in one setting. Each sender is a named entity with its own Standard Webhooks
 * signing secret (a Key Vault secret NAME) and the tenants it may act in; it calls
 * `POST /api/webhooks/incident-updates/<name>`. Problems name the sender and the field, never a value.
 *
 * Without INBOUND_SENDERS the single secret INBOUND_WEBHOOK_SECRET_NAME is one sender named `default`
 * (`POST /api/webhooks/incident-updates`), allowed in the tenants of DEFENDER_TENANTS (or the home
 * tenant) only: customers onboarded by consent need a sender of their own.
 */
import { z } from 'zod';
import { guid, namedJsonItems, secretName } from './validators';

export const DEFAULT_SENDER = 'default';

export interface InboundSenderConfig {
  /** Names the sender in its route, the log, the inbound table and the retry queue. */
  name: string;
  /** Key Vault secret NAME of its signing secret (`whsec_<base64>`, at least 24 bytes). */
  secret: string;
  /** Lower-case tenant ids it may act in; the first is the default when a body names none. */
  tenants: string[];
  /** The update fields it may set (docs/two-way.md); anything else is refused with 403. Default: all. */
  fields: OwnedField[];
  /** On a conflict with a change made in Defender since its base version: true applies it anyway. */
  wins: boolean;
  /** Whether an update without a base version is refused (428) instead of applied. */
  requireBase: boolean;
  /** An update for a merged (`redirected`) incident: applied to the one it was merged into, or refused. */
  onMerged: MergedBehaviour;
}

/** The fields of an incident update a sender can be granted: the body's own names. */
export const OWNED_FIELDS = [
  'status',
  'assignedTo',
  'classification',
  'determination',
  'tags',
  'comment',
] as const;
export type OwnedField = (typeof OWNED_FIELDS)[number];
export const MERGED_BEHAVIOURS = ['follow', 'refuse'] as const;
export type MergedBehaviour = (typeof MERGED_BEHAVIOURS)[number];

/** What a sender gets for the settings it leaves out (the default sender too). */
export const SENDER_DEFAULTS = {
  fields: [...OWNED_FIELDS] as OwnedField[],
  wins: false,
  requireBase: false,
  onMerged: 'follow' as MergedBehaviour,
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

const senderSchema = z
  .object({
    name: z.string().regex(NAME),
    secret: secretName,
    tenants: z.array(guid).min(1),
    fields: z.array(z.enum(OWNED_FIELDS)).min(1).optional(),
    wins: z.boolean().optional(),
    requireBase: z.boolean().optional(),
    onMerged: z.enum(MERGED_BEHAVIOURS).optional(),
  })
  .strict();

const FIELD_PROBLEMS: Record<string, string> = {
  name: 'is not a valid name (1-63 letters, digits, - and _)',
  secret: 'is not a Key Vault secret name (letters, digits, hyphens)',
  tenants: 'is not a non-empty array of tenant ids (GUIDs)',
  fields: `is not a non-empty array of update fields (${OWNED_FIELDS.join(', ')})`,
  wins: 'is not true or false',
  requireBase: 'is not true or false',
  onMerged: `is not one of ${MERGED_BEHAVIOURS.join(', ')}`,
};

/** Reads INBOUND_SENDERS; each problem names the sender (by position when its name is bad) and the field. */
export function parseInboundSenders(text: string): { senders: InboundSenderConfig[]; problems: string[] } {
  const { items, problem } = namedJsonItems(text, 'sender', NAME);
  if (problem) return { senders: [], problems: [problem] };
  const problems: string[] = [];
  const senders: InboundSenderConfig[] = [];
  const names = new Set<string>();
  const secrets = new Set<string>();
  items.forEach(({ item, label }) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${label}: is not an object`);
      return;
    }
    const parsed = senderSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? '');
        if (issue.code === 'unrecognized_keys') {
          problems.push(
            `${label}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
          );
        } else if ((item as Record<string, unknown>)[field] === undefined) {
          problems.push(`${label}: "${field}" is required`);
        } else {
          problems.push(`${label}: "${field}" ${FIELD_PROBLEMS[field] ?? 'is invalid'}`);
        }
      }
      return;
    }
    const s = parsed.data;
    if (names.has(s.name.toLowerCase())) problems.push(`${label}: the name is used by another sender`);
    if (secrets.has(s.secret.toLowerCase()))
      problems.push(`${label}: "secret" is used by another sender (each sender signs with its own)`);
    names.add(s.name.toLowerCase());
    secrets.add(s.secret.toLowerCase());
    senders.push({
      name: s.name,
      secret: s.secret,
      tenants: [...new Set(s.tenants.map((t) => t.toLowerCase()))],
      fields: s.fields ? [...new Set(s.fields)] : [...SENDER_DEFAULTS.fields],
      wins: s.wins ?? SENDER_DEFAULTS.wins,
      requireBase: s.requireBase ?? SENDER_DEFAULTS.requireBase,
      onMerged: s.onMerged ?? SENDER_DEFAULTS.onMerged,
    });
  });
  return { senders: problems.length > 0 ? [] : senders, problems };
}
