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
      run: (ctx, tid, url, body, res) => graphList(ctx, tid, url, body, res),
    };
  if (id !== undefined && !comments && method === 'GET') {
    return { kind: 'get', write: false, run: (ctx, tid, url, _b, res) => graphGet(ctx, tid, id, url, res) };
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

export async function graphList(
  ctx: SimContext,
  tid: string,
  url: URL,
  _body: string,
  res: http.ServerResponse,
): Promise<void> {
  const { top, skip } = parsePaging(url, 50, 20, 'graph');
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
  const orderby = (url.searchParams.get('$orderby') ?? 'createdDateTime desc').trim();
  const om = /^(lastUpdateDateTime|createdDateTime|id)(?:\s+(asc|desc))?$/i.exec(orderby);
  if (!om) throw new ODataError(`Order by '${orderby}' is not supported.`);
  const field = om[1]!.toLowerCase();
  const dir = (om[2] ?? 'asc').toLowerCase() === 'desc' ? -1 : 1;
  const key = (v: IncidentVersion): bigint =>
    field === 'id'
      ? BigInt(v.data.id)
      : field === 'createddatetime'
        ? parseTicks(v.data.createdDateTime)!
        : v.ticks;
  const rows = ctx.incidents
    .visible(tid)
    .filter((v) => matches(clauses, (f) => graphField(v, f)))
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      if (ka !== kb) return ka < kb ? -dir : dir;
      return a.data.id - b.data.id;
    });
  const page = rows.slice(skip, skip + top);
  const expanded = expand !== null;
  const out: Record<string, unknown> = {
    '@odata.context': `${ctx.urls.graphBaseUrl}/v1.0/$metadata#security/incidents${expanded ? '(alerts())' : ''}`,
  };
  if (url.searchParams.get('$count') === 'true') out['@odata.count'] = rows.length;
  out.value = page.map((v) => graphIncident(v, tid, expanded));
  if (skip + top < rows.length)
    out['@odata.nextLink'] = nextLink(`${ctx.urls.graphBaseUrl}/v1.0/security/incidents`, url, skip + top);
  sendJson(res, 200, out);
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
): Promise<void> {
  const v = graphFind(ctx, tid, id);
  const expanded = url.searchParams.get('$expand')?.toLowerCase() === 'alerts';
  sendJson(res, 200, {
    '@odata.context': `${ctx.urls.graphBaseUrl}/v1.0/$metadata#security/incidents${expanded ? '(alerts())' : ''}/$entity`,
    ...graphIncident(v, tid, expanded),
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
