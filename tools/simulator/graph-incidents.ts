/**
 * Microsoft Graph security incidents (`/graph/v1.0/security/incidents`, also `beta`): the routes (with
 * `runHuntingQuery`), list with `$filter` / `$orderby` / `$expand=alerts` / `$count` (paging in
 * ./paging), get, update and comments.
 */
import type * as http from 'node:http';
import {
  actor,
  CLASSIFICATIONS,
  DETERMINATIONS,
  enumValue,
  GRAPH_UPDATE_STATUSES,
  graphDeterminationsFor,
  parseJsonObject,
} from './api-input';
import { HttpError, type ApiRoute, type SimContext } from './context';
import { hunting } from './hunting';
import {
  graphIncident,
  matches,
  ODataError,
  parseFilter,
  type IncidentPatch,
  type IncidentVersion,
  type Severity,
} from './incidents';
import { nextLink, parsePaging } from './paging';
import { parseTicks, sendJson, type JwtClaims } from './util';

const SEVERITIES: Severity[] = ['unknown', 'informational', 'low', 'medium', 'high'];

export function graphRoute(method: string, path: string): ApiRoute | undefined {
  if (/^\/(v1\.0|beta)\/security\/runHuntingQuery$/.test(path) && method === 'POST') {
    return {
      kind: 'hunting',
      write: false,
      roles: ['ThreatHunting.Read.All'],
      run: (ctx, tid, _u, body, res) => hunting(ctx, 'graph', tid, body, res),
    };
  }
  const m = /^\/(v1\.0|beta)\/security\/incidents(?:\/([^/]+))?(\/comments)?$/.exec(path);
  if (!m) return undefined;
  const [, , id, comments] = m;
  if (id === undefined && method === 'GET')
    return {
      kind: 'list',
      write: false,
      run: (ctx, tid, url, body, res, _claims, req) => graphList(ctx, tid, url, body, res, req),
    };
  if (id !== undefined && !comments && method === 'GET') {
    return {
      kind: 'get',
      write: false,
      run: (ctx, tid, url, _b, res, _claims, req) => graphGet(ctx, tid, id, url, res, req),
    };
  }
  if (id !== undefined && !comments && method === 'PATCH') {
    return {
      kind: 'update',
      write: true,
      run: (ctx, tid, _u, body, res, claims) => graphPatch(ctx, tid, id, body, res, claims),
    };
  }
  if (id !== undefined && comments && method === 'POST') {
    return {
      kind: 'comment',
      write: true,
      run: (ctx, tid, _u, body, res, claims) => graphComment(ctx, tid, id, body, res, claims),
    };
  }
  return undefined;
}

/**
 * The list as the real service behaves, measured on a real tenant (2026-07, see the brief and issue 11):
 * - `$orderby=lastUpdateDateTime` (asc or desc) is accepted and silently ignored;
 * - without an `$orderby` the results are in no time order, and not the same order twice;
 * - `$orderby=createdDateTime` (asc or desc) is honoured; any other `$orderby` is a 400;
 * - `$top` above 50 and `$skip` above 500 are a 400 (Graph "List incidents": page size limit; the
 *   security API's `$skip` cap);
 * - `$count=true` gives the filtered total in `@odata.count`;
 * - `$expand=alerts` answers 500 when the page would carry more than `expandAlertsPerPage` alerts
 *   (field reports: persistent 500s with `$filter` and `$expand=alerts` on large tenants);
 * - newer enum members (status `awaitingAction`) only with `Prefer: include-unknown-enum-members`,
 *   otherwise `unknownFutureValue` (Graph "evolvable enums").
 */
export async function graphList(
  ctx: SimContext,
  tid: string,
  url: URL,
  _body: string,
  res: http.ServerResponse,
  req: http.IncomingMessage,
): Promise<void> {
  const { top, skip } = parsePaging(url, 50, 20, 'graph');
  if (skip > GRAPH_MAX_SKIP)
    throw new ODataError(
      `The value of $skip '${skip}' exceeds the maximum allowed value of ${GRAPH_MAX_SKIP}.`,
    );
  const expand = url.searchParams.get('$expand');
  if (expand !== null && expand.toLowerCase() !== 'alerts') {
    throw new ODataError(
      `Could not find a property named '${expand}' on type 'microsoft.graph.security.incident'.`,
    );
  }
  const clauses = parseFilter(
    url.searchParams.get('$filter'),
    ['lastUpdateDateTime', 'createdDateTime'],
    ['status', 'severity', 'assignedTo', 'classification', 'determination', 'id'],
  );
  const byCreated = createdOrder(url.searchParams.get('$orderby'));
  const matching = ctx.incidents
    .visible(tid)
    .filter((v) => !ctx.hiddenIncidents.has(`graph|${tid}|${v.data.id}`))
    .filter((v) => matches(clauses, (f) => graphField(v, f)));
  const ignored = ctx.graphQuirks.createdOrderIgnored.get(tid) ?? 0;
  if (ignored > 0) ctx.graphQuirks.createdOrderIgnored.set(tid, ignored - 1);
  const rows = byCreated && ignored === 0 ? sortByCreated(ctx, matching, byCreated) : shuffled(ctx, matching);
  const page = rows.slice(skip, skip + top);
  const expanded = expand !== null;
  const alerts = page.reduce((n, v) => n + v.data.alerts.length, 0);
  if (expanded && alerts > ctx.graphQuirks.expandAlertsPerPage) {
    throw new HttpError(500, {
      error: { code: 'InternalServerError', message: 'An internal server error occurred.' },
    });
  }
  const unknownEnums = prefersUnknownEnums(req);
  const out: Record<string, unknown> = {
    '@odata.context': `${ctx.urls.graphBaseUrl}/v1.0/$metadata#security/incidents${expanded ? '(alerts())' : ''}`,
  };
  if (url.searchParams.get('$count') === 'true') out['@odata.count'] = rows.length;
  out.value = page.map((v) => evolvable(graphIncident(v, tid, expanded), unknownEnums));
  if (skip + top < rows.length)
    out['@odata.nextLink'] = nextLink(`${ctx.urls.graphBaseUrl}/v1.0/security/incidents`, url, skip + top);
  sendJson(res, 200, out);
}

const GRAPH_MAX_SKIP = 500;

/** 1 or -1 for `$orderby=createdDateTime asc|desc`; undefined for none or the ignored last-update one. */
function createdOrder(orderby: string | null): 1 | -1 | undefined {
  if (orderby === null) return undefined;
  const m = /^\s*(lastUpdateDateTime|createdDateTime)(?:\s+(asc|desc))?\s*$/i.exec(orderby);
  if (!m)
    throw new ODataError(
      `The query specified in the URI is not valid. Order by '${orderby}' is not supported.`,
    );
  if (m[1]!.toLowerCase() === 'lastupdatedatetime') return undefined;
  return (m[2] ?? 'asc').toLowerCase() === 'desc' ? -1 : 1;
}

/** By creation time; incidents created at one time come in no particular order. */
function sortByCreated(ctx: SimContext, rows: IncidentVersion[], dir: 1 | -1): IncidentVersion[] {
  const keyed = shuffled(ctx, rows).map((v) => ({ v, t: parseTicks(v.data.createdDateTime)! }));
  keyed.sort((a, b) => (a.t === b.t ? 0 : a.t < b.t ? -dir : dir));
  return keyed.map((k) => k.v);
}

/** A new order on every request: neither by time nor stable between requests. */
function shuffled(ctx: SimContext, rows: IncidentVersion[]): IncidentVersion[] {
  const out = [...rows];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(ctx.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function prefersUnknownEnums(req: http.IncomingMessage): boolean {
  const prefer = req.headers.prefer;
  const values = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  return values.split(',').some((p) => p.trim().toLowerCase() === 'include-unknown-enum-members');
}

/** Members added after `unknownFutureValue` in security.incidentStatus are hidden without the header. */
const EVOLVED_STATUSES = new Set(['awaitingAction']);

function evolvable(incident: Record<string, unknown>, unknownEnums: boolean): Record<string, unknown> {
  if (!unknownEnums && EVOLVED_STATUSES.has(String(incident.status))) incident.status = 'unknownFutureValue';
  return incident;
}

function graphFind(ctx: SimContext, tid: string, id: string): IncidentVersion {
  const n = Number(id);
  const v = Number.isInteger(n) ? ctx.incidents.visibleOne(tid, n) : undefined;
  if (!v) {
    throw new HttpError(404, {
      error: { code: 'NotFound', message: `Entity with id '${id}' was not found.` },
    });
  }
  return v;
}

export async function graphGet(
  ctx: SimContext,
  tid: string,
  id: string,
  url: URL,
  res: http.ServerResponse,
  req: http.IncomingMessage,
): Promise<void> {
  const v = graphFind(ctx, tid, id);
  const expanded = url.searchParams.get('$expand')?.toLowerCase() === 'alerts';
  sendJson(res, 200, {
    '@odata.context': `${ctx.urls.graphBaseUrl}/v1.0/$metadata#security/incidents${expanded ? '(alerts())' : ''}/$entity`,
    ...evolvable(graphIncident(v, tid, expanded), prefersUnknownEnums(req)),
  });
}

export async function graphPatch(
  ctx: SimContext,
  tid: string,
  id: string,
  body: string,
  res: http.ServerResponse,
  claims: JwtClaims,
): Promise<void> {
  const current = graphFind(ctx, tid, id);
  const input = parseJsonObject(body);
  const patch: IncidentPatch = {};
  const allowed = [
    'status',
    'assignedTo',
    'classification',
    'determination',
    'customTags',
    'severity',
    'displayName',
    'description',
    'resolvingComment',
    'summary',
  ];
  for (const k of Object.keys(input)) {
    if (!allowed.includes(k) && !k.startsWith('@odata'))
      throw new ODataError(`Property '${k}' cannot be updated.`);
  }
  if (input.status !== undefined) patch.status = enumValue(input.status, GRAPH_UPDATE_STATUSES, 'status');
  if (input.severity !== undefined) patch.severity = enumValue(input.severity, SEVERITIES, 'severity');
  if (input.classification !== undefined)
    patch.classification = enumValue(input.classification, CLASSIFICATIONS, 'classification');
  if (input.determination !== undefined)
    patch.determination = enumValue(input.determination, DETERMINATIONS, 'determination');
  if (input.assignedTo !== undefined)
    patch.assignedTo = input.assignedTo === null ? null : String(input.assignedTo);
  if (input.customTags !== undefined) {
    if (!Array.isArray(input.customTags))
      throw new ODataError("Property 'customTags' must be an array of strings.");
    patch.customTags = input.customTags.map(String);
  }
  if (typeof input.displayName === 'string') patch.displayName = input.displayName;
  if (typeof input.description === 'string') patch.description = input.description;
  if (typeof input.resolvingComment === 'string') patch.resolvingComment = input.resolvingComment;
  const classification = patch.classification ?? current.data.classification;
  const fitting = graphDeterminationsFor(classification);
  if (patch.determination !== undefined && !fitting.includes(patch.determination)) {
    throw new ODataError(
      `Invalid determination '${patch.determination}' for classification '${classification}'. Allowed: ${fitting.join(', ')}.`,
    );
  }
  patch.lastModifiedBy = actor(claims);
  ctx.incidents.update(tid, id, patch);
  sendJson(res, 200, {
    '@odata.context': `${ctx.urls.graphBaseUrl}/v1.0/$metadata#security/incidents/$entity`,
    ...graphIncident(graphFind(ctx, tid, id), tid, false),
  });
}

export async function graphComment(
  ctx: SimContext,
  tid: string,
  id: string,
  body: string,
  res: http.ServerResponse,
  claims: JwtClaims,
): Promise<void> {
  graphFind(ctx, tid, id);
  const input = parseJsonObject(body);
  if (typeof input.comment !== 'string' || input.comment === '')
    throw new ODataError("Property 'comment' is required.");
  const who = actor(claims);
  const snap = ctx.incidents.update(tid, id, { comment: input.comment, commentBy: who, lastModifiedBy: who });
  sendJson(res, 200, {
    '@odata.context': `${ctx.urls.graphBaseUrl}/v1.0/$metadata#Collection(microsoft.graph.security.alertComment)`,
    value: snap.comments.map((c) => ({
      '@odata.type': '#microsoft.graph.security.alertComment',
      comment: c.comment,
      createdByDisplayName: c.createdBy,
      createdDateTime: c.createdTime,
    })),
  });
}

function graphField(v: IncidentVersion, field: string): bigint | string | null {
  switch (field) {
    case 'lastUpdateDateTime':
      return v.ticks;
    case 'createdDateTime':
      return parseTicks(v.data.createdDateTime) ?? null;
    case 'id':
      return String(v.data.id);
    case 'status':
    case 'severity':
    case 'assignedTo':
    case 'classification':
    case 'determination':
      return v.data[field];
    default:
      return null;
  }
}
