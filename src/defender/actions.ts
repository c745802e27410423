/**
 * Acting on Defender, on both APIs: advanced hunting and incident updates. The same code serves the user
 * context (a token provider from on-behalf-of) and the application context (the app's token provider):
 * the caller picks the `DefenderHttp` it builds with.
 *
 * The relay's vocabulary is Graph's camelCase (`inProgress`, `truePositive`); input is read
 * case-insensitively, so legacy PascalCase (`InProgress`, `TruePositive`, `NotAvailable`) is accepted too,
 * and values are mapped to the legacy API's PascalCase when it is the target. Defender's rule that a
 * determination needs the true-positive classification is enforced before anything is sent.
 */
import { z } from 'zod';
import type { DefenderHttp, RunBudget } from './http';
import { newBudget } from './http';
import { DefenderApiError } from './errors';
import { readIncident, type ApiFlavour, type IncidentHeader } from './incident';

export const UPDATE_STATUSES = ['active', 'inProgress', 'resolved'] as const;
export const CLASSIFICATIONS = [
  'unknown',
  'falsePositive',
  'truePositive',
  'informationalExpectedActivity',
] as const;
/** Determinations the legacy API documents; Graph has more (below). */
export const LEGACY_DETERMINATIONS = [
  'unknown',
  'apt',
  'malware',
  'securityPersonnel',
  'securityTesting',
  'unwantedSoftware',
  'other',
] as const;
export const DETERMINATIONS = [
  ...LEGACY_DETERMINATIONS,
  'multiStagedAttack',
  'compromisedAccount',
  'phishing',
  'maliciousUserActivity',
  'notMalicious',
  'notEnoughDataToValidate',
  'confirmedUserActivity',
  'lineOfBusinessApplication',
] as const;

/** A case-insensitive enum that yields the canonical (camelCase) value; `aliases` map other spellings. */
function enumCI<const T extends readonly string[]>(values: T, aliases: Record<string, T[number]> = {}) {
  const byLower = new Map<string, T[number]>(values.map((v) => [v.toLowerCase(), v]));
  for (const [k, v] of Object.entries(aliases)) byLower.set(k.toLowerCase(), v);
  return z.string().transform((v, ctx) => {
    const hit = byLower.get(v.trim().toLowerCase());
    if (hit === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}` });
      return z.NEVER;
    }
    return hit;
  });
}

export const incidentUpdateFields = {
  status: enumCI(UPDATE_STATUSES).optional(),
  /** A user principal name or email; null unassigns. */
  assignedTo: z.string().trim().min(1).max(256).nullable().optional(),
  classification: enumCI(CLASSIFICATIONS).optional(),
  determination: enumCI(DETERMINATIONS, { notAvailable: 'unknown' }).optional(),
  /** Replaces the incident's custom tags. */
  tags: z.array(z.string().trim().min(1).max(128)).max(50).optional(),
  comment: z.string().trim().min(1).max(10_000).optional(),
};

export type IncidentUpdate = {
  status?: (typeof UPDATE_STATUSES)[number];
  assignedTo?: string | null;
  classification?: (typeof CLASSIFICATIONS)[number];
  determination?: (typeof DETERMINATIONS)[number];
  tags?: string[];
  comment?: string;
};

const UPDATE_KEYS = Object.keys(incidentUpdateFields) as (keyof IncidentUpdate)[];

/** Defender's rules over a whole update, as zod issues on the field at fault. */
export function checkIncidentUpdate(u: IncidentUpdate, ctx: z.RefinementCtx, path: PropertyKey[] = []): void {
  if (!UPDATE_KEYS.some((k) => u[k] !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'status'],
      message: `is missing: give at least one of ${UPDATE_KEYS.join(', ')}`,
    });
  }
  if (u.determination !== undefined && u.determination !== 'unknown' && u.classification !== 'truePositive') {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'determination'],
      message:
        'can only be set together with classification "truePositive" (Defender\'s rule); send both in the same update',
    });
  }
}

/** The body of `PATCH /api/incidents/{id}`. */
export const incidentUpdateSchema = z
  .object(incidentUpdateFields)
  .strict()
  .superRefine((u, ctx) => checkIncidentUpdate(u as IncidentUpdate, ctx));

export interface HuntingResult {
  api: ApiFlavour;
  schema: { name: string; type: string }[];
  results: Record<string, unknown>[];
  rowCount: number;
}

export interface UpdateResult {
  api: ApiFlavour;
  incident: IncidentHeader;
  commentAdded: boolean;
}

const pascal = (v: string) => v.charAt(0).toUpperCase() + v.slice(1);

/** Graph camelCase → legacy PascalCase for the update fields. */
export function toLegacyUpdate(u: IncidentUpdate): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (u.status) out.status = pascal(u.status);
  if (u.assignedTo !== undefined) out.assignedTo = u.assignedTo;
  if (u.classification) out.classification = pascal(u.classification);
  if (u.determination)
    out.determination = u.determination === 'unknown' ? 'NotAvailable' : pascal(u.determination);
  if (u.tags) out.tags = u.tags;
  if (u.comment) out.comment = u.comment;
  return out;
}

export function toGraphUpdate(u: IncidentUpdate): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (u.status) out.status = u.status;
  if (u.assignedTo !== undefined) out.assignedTo = u.assignedTo;
  if (u.classification) out.classification = u.classification;
  if (u.determination) out.determination = u.determination;
  if (u.tags) out.customTags = u.tags;
  return out;
}

export interface DefenderActionsOptions {
  graphBaseUrl: string;
  legacyBaseUrl: string;
  portalUrl: string;
  /** Interactive calls give up on throttling sooner than a sync run: calls and time per action. */
  budget?: () => RunBudget;
}

export class DefenderActions {
  constructor(
    private readonly http: DefenderHttp,
    private readonly options: DefenderActionsOptions,
  ) {}

  private budget(): RunBudget {
    return this.options.budget?.() ?? newBudget(8, 45_000);
  }

  async runHunting(
    tenantId: string,
    api: ApiFlavour,
    query: string,
    timespan?: string,
  ): Promise<HuntingResult> {
    const budget = this.budget();
    try {
      if (api === 'graph') {
        const body = await this.http.json<{
          schema?: { name: string; type: string }[];
          results?: Record<string, unknown>[];
        }>({
          tenantId,
          api,
          method: 'POST',
          url: `${this.options.graphBaseUrl}/v1.0/security/runHuntingQuery`,
          body: { Query: query, ...(timespan ? { Timespan: timespan } : {}) },
          budget,
        });
        const results = Array.isArray(body.results) ? body.results : [];
        return {
          api,
          schema: (body.schema ?? []).map((c) => ({
            name: c.name,
            type: String(c.type).replace(/^System\./, ''),
          })),
          results,
          rowCount: results.length,
        };
      }
      const body = await this.http.json<{
        Schema?: { Name: string; Type: string }[];
        Results?: Record<string, unknown>[];
      }>({
        tenantId,
        api,
        method: 'POST',
        url: `${this.options.legacyBaseUrl}/api/advancedhunting/run`,
        body: { Query: query },
        budget,
      });
      const results = Array.isArray(body.Results) ? body.Results : [];
      return {
        api,
        schema: (body.Schema ?? []).map((c) => ({
          name: c.Name,
          type: String(c.Type).replace(/^System\./, ''),
        })),
        results,
        rowCount: results.length,
      };
    } catch (error) {
      throw describeHuntingError(error);
    }
  }

  async updateIncident(
    tenantId: string,
    api: ApiFlavour,
    incidentId: string,
    update: IncidentUpdate,
  ): Promise<UpdateResult> {
    if (!/^\d{1,19}$/.test(incidentId)) {
      throw new DefenderApiError(
        `Incident id "${incidentId.slice(0, 40)}" is not a number.`,
        400,
        'invalid_incident_id',
        false,
      );
    }
    if (
      api === 'legacy' &&
      update.determination &&
      !(LEGACY_DETERMINATIONS as readonly string[]).includes(update.determination)
    ) {
      throw new DefenderApiError(
        `The determination "${update.determination}" exists only on the Graph API; the legacy API knows ${LEGACY_DETERMINATIONS.join(', ')}.`,
        422,
        'determination_unsupported',
        false,
      );
    }
    const budget = this.budget();
    if (api === 'legacy') {
      const raw = await this.http.json({
        tenantId,
        api,
        method: 'PATCH',
        url: `${this.options.legacyBaseUrl}/api/incidents/${incidentId}`,
        body: toLegacyUpdate(update),
        budget,
      });
      return {
        api,
        incident: readIncident(raw, api, tenantId, this.options.portalUrl).header,
        commentAdded: !!update.comment,
      };
    }
    const url = `${this.options.graphBaseUrl}/v1.0/security/incidents/${incidentId}`;
    const patch = toGraphUpdate(update);
    let raw: Record<string, unknown> | undefined;
    if (Object.keys(patch).length > 0) {
      raw = await this.http.json({ tenantId, api, method: 'PATCH', url, body: patch, budget });
    }
    if (update.comment) {
      await this.http.json({
        tenantId,
        api,
        method: 'POST',
        url: `${url}/comments`,
        body: { '@odata.type': 'microsoft.graph.security.alertComment', comment: update.comment },
        budget,
      });
      raw = await this.http.json({ tenantId, api, method: 'GET', url, budget });
    }
    return {
      api,
      incident: readIncident(raw ?? {}, api, tenantId, this.options.portalUrl).header,
      commentAdded: !!update.comment,
    };
  }
}

/** Advanced hunting's limits as errors a person can act on. */
export function describeHuntingError(error: unknown): unknown {
  if (!(error instanceof DefenderApiError)) return error;
  if (error.status === 400 || error.status === 408 || error.status === 504) {
    if (
      /time(d)?[ -]?out|timeout|execution time|took too long/i.test(error.message) ||
      error.status !== 400
    ) {
      return new DefenderApiError(
        'The hunting query ran longer than Defender allows (advanced hunting stops a query after a few minutes): narrow the time range or filter earlier.',
        504,
        'hunting_timeout',
        false,
      );
    }
    if (/rows|result size|too (many|large)|exceed/i.test(error.message)) {
      return new DefenderApiError(
        'The hunting query returns more rows than Defender allows (100,000): add `| take N` or `summarize`, or narrow the time range.',
        422,
        'hunting_row_cap',
        false,
      );
    }
    return new DefenderApiError(
      `Defender rejected the hunting query: ${error.message.replace(/^.*?answered 400: ?/, '')}`,
      422,
      'hunting_query_invalid',
      false,
    );
  }
  return error;
}
