/** The value checks the settings schema is built from (zod), shared by every group of settings. */
import { z } from 'zod';
import { scheduleProblem } from './ncrontab';

export const httpsUrl = z
  .string()
  .trim()
  .refine((v) => isUrl(v, ['https:']), { message: 'is not an absolute https:// URL' });
export const anyUrl = z
  .string()
  .trim()
  .refine((v) => isUrl(v, ['https:', 'http:']), { message: 'is not an absolute http(s):// URL' });
export const guid = z
  .string()
  .trim()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'is not a GUID' });
/** Items separated by commas, semicolons or white space. */
const listOf = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .trim()
    .transform((v) =>
      v
        .split(/[,;\s]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
export const guidList = listOf(guid);
/**
 * DEFENDER_TENANTS: tenant ids separated by commas, each optionally followed by the API it reads,
 * `<tenant id>:graph` or `<tenant id>:legacy` (without one, DEFENDER_API).
 */
export const tenantList = listOf(
  z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:(graph|legacy))?$/i, {
      message: 'is not a tenant id (a GUID), optionally followed by :graph or :legacy',
    })
    .transform((entry) => {
      const [tenantId, api] = entry.toLowerCase().split(':');
      return { tenantId: tenantId as string, api: api as 'graph' | 'legacy' | undefined };
    }),
);
export const intIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { message: 'is not a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
export const queueName = z
  .string()
  .trim()
  .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, {
    message: 'is not a valid queue name (3-63 lowercase letters, digits and single hyphens)',
  });
export const tableName = z
  .string()
  .trim()
  .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, {
    message: 'is not a valid table name (3-63 letters and digits, starting with a letter)',
  });
export const secretName = z
  .string()
  .trim()
  .regex(/^[0-9a-zA-Z-]{1,127}$/, {
    message: 'is not a valid Key Vault secret name (letters, digits, hyphens)',
  });
/** SYNC_SCHEDULE: NCRONTAB or a TimeSpan, parsed (src/config/ncrontab.ts); the plan is checked in loadConfig. */
export const ncrontab = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    const problem = scheduleProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Entra ID accepts https redirect URIs, and http only for localhost. */
export function isRedirectUri(value: string): boolean {
  if (isUrl(value, ['https:'])) return true;
  return isUrl(value, ['http:']) && ['localhost', '127.0.0.1', '[::1]'].includes(new URL(value).hostname);
}

function isUrl(value: string, protocols: string[]): boolean {
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) && !!url.hostname;
  } catch {
    return false;
  }
}

/** A zod issue in words for a start-up error (never the value itself). */
export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `is not one of ${(issue.values as unknown[]).map((v) => `"${String(v)}"`).join(', ')}`;
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') return `is out of range (${issue.message})`;
  return issue.message.replace(/^Invalid input:?\s*/i, 'is invalid: ');
}

/**
 * The items of a setting that holds a JSON array of named objects (WEBHOOKS, INBOUND_SENDERS), each with
 * the label its problems start with: `<noun> "<name>"` when the name is a valid name, else
 * `<noun> #<position>` (a value is never echoed: a URL pasted into a wrong field stays out of the log).
 */
export function namedJsonItems(
  text: string,
  noun: string,
  validName: RegExp,
): { items: { item: unknown; label: string }[]; problem?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { items: [], problem: `is not valid JSON (expected an array of ${noun}s)` };
  }
  if (!Array.isArray(json)) return { items: [], problem: `is not a JSON array of ${noun}s` };
  return {
    items: json.map((item: unknown, index) => {
      const rawName = (item as { name?: unknown } | null)?.name;
      return {
        item,
        label:
          typeof rawName === 'string' && validName.test(rawName)
            ? `${noun} "${rawName}"`
            : `${noun} #${index + 1}`,
      };
    }),
  };
}
