/**
 * Acting on Defender, on both APIs: advanced hunting and incident updates. The same code serves the user
 * context (a token provider from on-behalf-of) and the application context (the app's token provider):
 * the caller picks the `DefenderHttp` it builds with.
 *
 * The relay's vocabulary is Graph's (./vocabulary, from the typed Graph model); input is read
 * case-insensitively, and the legacy update's own names (`Clean`, `NoEnoughDataToValidate`,
 * `NotAvailable`) are accepted too. Each API's rules are checked before anything is sent: the
 * classification and determination pairs it documents, the statuses its update page lists
 * (docs/http-api.md has the table), and what only one of them knows.
 */
import { z } from 'zod';
import type { DefenderHttp, RunBudget } from './http';
import { newBudget } from './http';
import { DefenderApiError } from './errors';
import { readIncident, type ApiFlavour, type IncidentHeader, type IncidentVersion } from './incident';
import {
  GRAPH_CLASSIFICATIONS,
  GRAPH_DETERMINATIONS,
  GRAPH_PAIRS,
  GRAPH_UPDATE_STATUSES,
  LEGACY_PAIRS,
  legacyDetermination,
  toLegacyName,
  type Classification,
  type Determination,
} from './vocabulary';

/** What a caller may ask for; what each API is sent for it is `updateStatusFor`. */
export const UPDATE_STATUSES = ['active', 'inProgress', 'resolved'] as const;
export const CLASSIFICATIONS = GRAPH_CLASSIFICATIONS;
export const DETERMINATIONS = GRAPH_DETERMINATIONS;

/** Statuses Defender sets itself: refused with the reason. */
const STATUS_REFUSALS: Record<string, string> = {
  redirected:
    'is set by Defender when it merges the incident into another (redirectIncidentId); an update cannot merge',
  awaitingaction: 'is set only by Microsoft Defender Experts',
  unknownfuturevalue: "is Graph's evolvable-enum sentinel, not a status",
};

/** A case-insensitive enum that yields the canonical (camelCase) value; `aliases` map other spellings. */
function enumCI<const T extends readonly string[]>(
  values: T,
  aliases: Record<string, T[number]> = {},
  refusals: Record<string, string> = {},
) {
  const byLower = new Map<string, T[number]>(values.map((v) => [v.toLowerCase(), v]));
  for (const [k, v] of Object.entries(aliases)) byLower.set(k.toLowerCase(), v);
  return z.string().transform((v, ctx) => {
    const key = v.trim().toLowerCase();
    const hit = byLower.get(key);
    if (hit === undefined) {
      const reason = refusals[key];
      ctx.addIssue({
        code: 'custom',
        message: `${reason ? `"${v.trim()}" ${reason}; ` : ''}must be one of ${values.join(', ')}`,
      });
      return z.NEVER;
    }
    return hit;
  });
}

export const incidentUpdateFields = {
  status: enumCI(UPDATE_STATUSES, {}, STATUS_REFUSALS).optional(),
  /** A user principal name or email; null unassigns. */
  assignedTo: z.string().trim().min(1).max(256).nullable().optional(),
  classification: enumCI(CLASSIFICATIONS).optional(),
  /** Graph's names; the legacy update's names for the same values are read too. */
  determination: enumCI(DETERMINATIONS, {
    notAvailable: 'unknown',
    clean: 'notMalicious',
    noEnoughDataToValidate: 'notEnoughDataToValidate',
  }).optional(),
  /** Replaces the incident's custom tags. */
  tags: z.array(z.string().trim().min(1).max(128)).max(50).optional(),
  comment: z.string().trim().min(1).max(10_000).optional(),
};

export type IncidentUpdate = {
  status?: (typeof UPDATE_STATUSES)[number];
  assignedTo?: string | null;
  classification?: Classification;
  determination?: Determination;
  tags?: string[];
  comment?: string;
};

const UPDATE_KEYS = Object.keys(incidentUpdateFields) as (keyof IncidentUpdate)[];

export interface UpdateIssue {
  field: keyof IncidentUpdate;
  message: string;
}

const pairList = (pairs: Record<string, readonly string[]>): string =>
  Object.entries(pairs)
    .filter(([, ds]) => ds.length > 0)
    .map(([c, ds]) => `${c}: ${ds.join(', ')}`)
    .join('; ');

/**
 * Each API's rules over a whole update (without `api`: the rules both share). The pairs are Microsoft's
 * (./vocabulary: GRAPH_PAIRS, LEGACY_PAIRS); a determination needs its classification in the same
 * update, since the relay does not read the incident first.
 */
export function updateIssues(u: IncidentUpdate, api?: ApiFlavour): UpdateIssue[] {
  const issues: UpdateIssue[] = [];
  if (!UPDATE_KEYS.some((k) => u[k] !== undefined)) {
    issues.push({ field: 'status', message: `is missing: give at least one of ${UPDATE_KEYS.join(', ')}` });
  }
  if (api === 'graph' && u.status === 'inProgress') {
    issues.push({
      field: 'status',
      message: `"inProgress" is not a value of Graph's update (security-incident-update lists ${GRAPH_UPDATE_STATUSES.filter((s) => s !== 'redirected').join(', ')}); use one of those, or the legacy API (?api=legacy), which takes InProgress`,
    });
  }
  if (api === 'legacy' && u.classification === 'unknown') {
    issues.push({
      field: 'classification',
      message: `"unknown" is not a value of the legacy update (api-update-incidents lists truePositive, informationalExpectedActivity, falsePositive)`,
    });
  }
  const d = u.determination;
  if (d === undefined) return issues;
  if (api === 'legacy') {
    const legacy = legacyDetermination(d);
    const allowed = u.classification
      ? LEGACY_PAIRS[toLegacyName('classification', u.classification) as keyof typeof LEGACY_PAIRS]
      : undefined;
    if (legacy === undefined) {
      issues.push({
        field: 'determination',
        message: `"${d}" is not accepted by the legacy update (api-update-incidents; ${d === 'unknown' ? 'NotAvailable is only returned, never set: leave determination out' : 'Apt and SecurityPersonnel are no longer accepted since August 2022'}); allowed per classification: ${pairList(legacyPairsInGraphNames())}`,
      });
      return issues;
    }
    if (u.classification === undefined || allowed === undefined) {
      issues.push({
        field: 'determination',
        message: `needs ${u.classification === undefined ? 'its classification in the same update' : 'a classification the legacy update accepts'}; allowed per classification: ${pairList(legacyPairsInGraphNames())}`,
      });
      return issues;
    }
    if (!allowed.includes(legacy)) {
      issues.push({
        field: 'determination',
        message: `"${d}" does not go with classification "${u.classification}" on the legacy API; allowed with ${u.classification}: ${legacyPairsInGraphNames()[u.classification]!.join(', ')}`,
      });
    }
    return issues;
  }
  if (d === 'unknown') return issues;
  if (u.classification === undefined) {
    issues.push({
      field: 'determination',
      message: `needs its classification in the same update; allowed per classification: ${pairList(GRAPH_PAIRS)}`,
    });
  } else if (!GRAPH_PAIRS[u.classification].includes(d)) {
    issues.push({
      field: 'determination',
      message: `"${d}" does not go with classification "${u.classification}"; allowed with ${u.classification}: ${GRAPH_PAIRS[u.classification].join(', ')}`,
    });
  }
  return issues;
}

/** LEGACY_PAIRS in the relay's (Graph's) names, for messages. */
function legacyPairsInGraphNames(): Record<string, Determination[]> {
  const out: Record<string, Determination[]> = {};
  for (const c of ['truePositive', 'informationalExpectedActivity', 'falsePositive'] as const) {
    const names = LEGACY_PAIRS[toLegacyName('classification', c) as keyof typeof LEGACY_PAIRS];
    out[c] = GRAPH_DETERMINATIONS.filter((d) => {
      const l = legacyDetermination(d);
      return l !== undefined && names.includes(l);
    });
  }
  return out;
}

/** The rules as zod issues on the field at fault. */
export function checkIncidentUpdate(
  u: IncidentUpdate,
  ctx: z.RefinementCtx,
  path: PropertyKey[] = [],
  api?: ApiFlavour,
): void {
  for (const issue of updateIssues(u, api))
    ctx.addIssue({ code: 'custom', path: [...path, issue.field], message: issue.message });
}

/** The body of `PATCH /api/incidents/{id}` for one API (without `api`: the shared rules only). */
export function incidentUpdateSchemaFor(api?: ApiFlavour) {
  return z
    .object(incidentUpdateFields)
    .strict()
    .superRefine((u, ctx) => checkIncidentUpdate(u as IncidentUpdate, ctx, [], api));
}

export const incidentUpdateSchema = incidentUpdateSchemaFor();

/** An update an API would refuse, caught before it is sent; `field` names the input at fault. */
export class UpdateRefusedError extends DefenderApiError {
  constructor(
    public readonly issues: UpdateIssue[],
    api: ApiFlavour,
  ) {
    super(
      `The ${api === 'graph' ? 'Graph' : 'legacy'} API does not accept this update: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
      422,
      'update_refused',
      false,
    );
    this.name = 'UpdateRefusedError';
  }
}

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

/** The update in the legacy API's names (api-update-incidents). Call with a checked update. */
export function toLegacyUpdate(u: IncidentUpdate): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (u.status) out.status = toLegacyName('status', u.status);
  if (u.assignedTo !== undefined) out.assignedTo = u.assignedTo;
  if (u.classification) out.classification = toLegacyName('classification', u.classification);
  if (u.determination) out.determination = legacyDetermination(u.determination);
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
    if (api === 'legacy' && timespan !== undefined) {
      // api-advanced-hunting: the request body has `Query` only; the legacy API always looks 30 days back.
      throw new DefenderApiError(
        'The legacy advanced hunting API takes no timespan (it always queries the past 30 days): leave timespan out, filter on Timestamp in the query, or use the Graph API.',
        422,
        'timespan_unsupported',
        false,
      );
    }
    const budget = this.budget();
    try {
      const body = await this.http.json<Record<string, unknown>>(
        api === 'graph'
          ? {
              tenantId,
              api,
              method: 'POST',
              url: `${this.options.graphBaseUrl}/v1.0/security/runHuntingQuery`,
              body: { Query: query, ...(timespan ? { Timespan: timespan } : {}) },
              budget,
            }
          : {
              tenantId,
              api,
              method: 'POST',
              url: `${this.options.legacyBaseUrl}/api/advancedhunting/run`,
              body: { Query: query },
              budget,
            },
      );
      return { api, ...readHuntingResult(body) };
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
    const { version, ...result } = await this.updateIncidentVersion(tenantId, api, incidentId, update);
    void version;
    return result;
  }

  /** The incident as the API returns it now (comments included on both APIs). */
  async getIncident(tenantId: string, api: ApiFlavour, incidentId: string): Promise<IncidentVersion> {
    checkIncidentId(incidentId);
    const raw = await this.http.json<Record<string, unknown>>({
      tenantId,
      api,
      method: 'GET',
      url: this.incidentUrl(api, incidentId),
      budget: this.budget(),
    });
    return readIncident(raw, api, tenantId, this.options.portalUrl);
  }

  /**
   * Updates an incident and returns the version the update produced, read from the API's answer: the
   * PATCH answer (both APIs return the updated incident), or after a Graph comment, whose POST answers the
   * comments only, the incident read again.
   */
  async updateIncidentVersion(
    tenantId: string,
    api: ApiFlavour,
    incidentId: string,
    update: IncidentUpdate,
  ): Promise<UpdateResult & { version: IncidentVersion }> {
    checkIncidentId(incidentId);
    const issues = updateIssues(update, api);
    if (issues.length > 0) throw new UpdateRefusedError(issues, api);
    const budget = this.budget();
    const url = this.incidentUrl(api, incidentId);
    let raw: Record<string, unknown> | undefined;
    if (api === 'legacy') {
      raw = await this.http.json({
        tenantId,
        api,
        method: 'PATCH',
        url,
        body: toLegacyUpdate(update),
        budget,
        // The legacy update carries the comment: a repeat would post it twice.
        notIdempotent: !!update.comment,
      });
    } else {
      const patch = toGraphUpdate(update);
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
          notIdempotent: true,
        });
        raw = await this.http.json({ tenantId, api, method: 'GET', url, budget });
      }
    }
    const version = readIncident(raw ?? {}, api, tenantId, this.options.portalUrl);
    return { api, incident: version.header, commentAdded: !!update.comment, version };
  }

  private incidentUrl(api: ApiFlavour, incidentId: string): string {
    return api === 'legacy'
      ? `${this.options.legacyBaseUrl}/api/incidents/${incidentId}`
      : `${this.options.graphBaseUrl}/v1.0/security/incidents/${incidentId}`;
  }
}

function checkIncidentId(incidentId: string): void {
  if (!/^\d{1,19}$/.test(incidentId)) {
    throw new DefenderApiError(
      `Incident id "${incidentId.slice(0, 40)}" is not a number.`,
      400,
      'invalid_incident_id',
      false,
    );
  }
}

/**
 * A hunting answer in either casing: Graph's runHuntingQuery page shows `schema` of `name`/`type` in one
 * example and of `Name`/`Type` in another; the legacy API answers `Schema`/`Results` with `Name`/`Type`
 * (api-advanced-hunting). Column types lose the `System.` prefix some answers carry.
 */
export function readHuntingResult(body: Record<string, unknown>): Omit<HuntingResult, 'api'> {
  const pick = (o: Record<string, unknown>, k: string): unknown =>
    o[k] ?? o[k.charAt(0).toUpperCase() + k.slice(1)];
  const rawSchema = pick(body, 'schema');
  const rawResults = pick(body, 'results');
  const results = Array.isArray(rawResults) ? (rawResults as Record<string, unknown>[]) : [];
  const schema = (Array.isArray(rawSchema) ? (rawSchema as Record<string, unknown>[]) : []).map((c) => ({
    name: String(pick(c, 'name') ?? ''),
    type: String(pick(c, 'type') ?? '').replace(/^System\./, ''),
  }));
  return { schema, results, rowCount: results.length };
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
