/**
 * The legacy Defender XDR incidents API (`/legacy/api/incidents`): the routes (with advanced hunting),
 * list with `$filter` in a stable pseudo-random order (paging in ./paging), get and update.
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import {
  actor,
  determinationFromLegacy,
  determinationToLegacy,
  enumValue,
  LEGACY_BY_CLASSIFICATION,
  LEGACY_UPDATE_STATUSES,
  parseJsonObject,
} from './api-input';
import { HttpError, type ApiRoute, type SimContext } from './context';
import { hunting } from './hunting';
import {
  legacyIncident,
  matches,
  ODataError,
  parseFilter,
  type IncidentPatch,
  type IncidentStatus,
  type IncidentVersion,
} from './incidents';
import { nextLink, parsePaging } from './paging';
import { parseTicks, sendJson, type JwtClaims } from './util';

export function legacyRoute(method: string, path: string): ApiRoute | undefined {
  if (path === '/api/advancedhunting/run' && method === 'POST') {
    return {
      kind: 'hunting',
      write: false,
      roles: ['AdvancedHunting.Read.All'],
      run: (ctx, tid, _u, body, res) => hunting(ctx, 'legacy', tid, body, res),
    };
  }
  const m = /^\/api\/incidents(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  const [, id] = m;
  if (id === undefined && method === 'GET')
    return {
      kind: 'list',
      write: false,
      run: (ctx, tid, url, body, res) => legacyList(ctx, tid, url, body, res),
    };
  if (id !== undefined && method === 'GET')
    return { kind: 'get', write: false, run: (ctx, tid, _u, _b, res) => legacyGet(ctx, tid, id, res) };
  if (id !== undefined && method === 'PATCH') {
    return {
      kind: 'update',
      write: true,
      run: (ctx, tid, _u, body, res, claims) => legacyPatch(ctx, tid, id, body, res, claims),
    };
  }
  return undefined;
}

export async function legacyList(
  ctx: SimContext,
  tid: string,
  url: URL,
  _body: string,
  res: http.ServerResponse,
): Promise<void> {
  const { top, skip } = parsePaging(url, 100, 100, 'legacy');
  if (url.searchParams.has('$orderby'))
    throw new ODataError('The query specified in the URI is not valid. $orderby is not supported.');
  const clauses = parseFilter(
    url.searchParams.get('$filter'),
    ['lastUpdateTime', 'createdTime'],
    ['status', 'assignedTo', 'severity', 'classification', 'determination', 'incidentId'],
  );
  const rows = ctx.incidents
    .visible(tid)
    .filter((v) => !ctx.hiddenIncidents.has(`legacy|${tid}|${v.data.id}`))
    .filter((v) => matches(clauses, (f) => legacyField(v, f)))
    .sort((a, b) => shuffleKey(tid, a.data.id) - shuffleKey(tid, b.data.id) || a.data.id - b.data.id);
  const page = rows.slice(skip, skip + top);
  const out: Record<string, unknown> = {
    '@odata.context': `${ctx.urls.legacyBaseUrl}/api/$metadata#Incidents`,
    value: page.map((v) => legacyIncident(v, tid)),
  };
  if (skip + top < rows.length)
    out['@odata.nextLink'] = nextLink(`${ctx.urls.legacyBaseUrl}/api/incidents`, url, skip + top);
  sendJson(res, 200, out);
}

function legacyFind(ctx: SimContext, tid: string, id: string): IncidentVersion {
  const n = Number(id);
  const v = Number.isInteger(n) ? ctx.incidents.visibleOne(tid, n) : undefined;
  if (!v)
    throw new HttpError(404, {
      error: { code: 'NotFound', message: `Incident ${id} was not found`, target: crypto.randomUUID() },
    });
  return v;
}

export async function legacyGet(
  ctx: SimContext,
  tid: string,
  id: string,
  res: http.ServerResponse,
): Promise<void> {
  const v = legacyFind(ctx, tid, id);
  sendJson(res, 200, {
    '@odata.context': `${ctx.urls.legacyBaseUrl}/api/$metadata#Incidents/$entity`,
    ...legacyIncident(v, tid),
  });
}

export async function legacyPatch(
  ctx: SimContext,
  tid: string,
  id: string,
  body: string,
  res: http.ServerResponse,
  claims: JwtClaims,
): Promise<void> {
  const current = legacyFind(ctx, tid, id);
  const input = parseJsonObject(body);
  const patch: IncidentPatch = {};
  const allowed = ['status', 'assignedTo', 'classification', 'determination', 'tags', 'comment'];
  for (const k of Object.keys(input))
    if (!allowed.includes(k)) throw new ODataError(`Property '${k}' cannot be updated.`);
  // api-update-incidents: the values it lists, in any casing.
  if (input.status !== undefined)
    patch.status = camel(enumValue(input.status, LEGACY_UPDATE_STATUSES, 'status')) as IncidentStatus;
  const classifications = Object.keys(LEGACY_BY_CLASSIFICATION);
  if (input.classification !== undefined) {
    patch.classification = camel(
      enumValue(input.classification, classifications, 'classification'),
    ) as IncidentPatch['classification'];
  }
  let legacyDetermination: string | undefined;
  if (input.determination !== undefined) {
    const all = [...new Set(Object.values(LEGACY_BY_CLASSIFICATION).flat())];
    legacyDetermination = enumValue(input.determination, all, 'determination');
    patch.determination = determinationFromLegacy(legacyDetermination);
  }
  if (input.assignedTo !== undefined)
    patch.assignedTo = input.assignedTo === null ? null : String(input.assignedTo);
  if (input.tags !== undefined) {
    if (!Array.isArray(input.tags)) throw new ODataError("Property 'tags' must be an array of strings.");
    patch.customTags = input.tags.map(String);
  }
  if (typeof input.comment === 'string' && input.comment !== '') {
    patch.comment = input.comment;
    patch.commentBy = actor(claims);
  }
  if (legacyDetermination !== undefined) {
    const classification = pascal(patch.classification ?? current.data.classification);
    const allowed = LEGACY_BY_CLASSIFICATION[classification] ?? [];
    if (!allowed.includes(legacyDetermination)) {
      throw new ODataError(
        `Determination '${legacyDetermination}' is not valid for Classification '${classification}'. Allowed: ${allowed.join(', ') || 'none (set a Classification)'}.`,
      );
    }
  }
  patch.lastModifiedBy = actor(claims);
  ctx.incidents.update(tid, id, patch);
  sendJson(res, 200, legacyIncident(legacyFind(ctx, tid, id), tid));
}

function legacyField(v: IncidentVersion, field: string): bigint | string | null {
  switch (field) {
    case 'lastUpdateTime':
      return v.ticks;
    case 'createdTime':
      return parseTicks(v.data.createdDateTime) ?? null;
    case 'incidentId':
      return String(v.data.id);
    case 'status':
    case 'assignedTo':
    case 'classification':
      return v.data[field];
    case 'severity':
      return v.data.severity === 'unknown' ? 'UnSpecified' : v.data.severity;
    case 'determination':
      return determinationToLegacy(v.data.determination);
    default:
      return null;
  }
}

/** A stable pseudo-random order for the legacy API (not by time, the same on every page). */
function shuffleKey(tid: string, id: number): number {
  return crypto.createHash('sha1').update(`${tid}:${id}`).digest().readUInt32BE(0);
}

function pascal(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

function camel(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}
