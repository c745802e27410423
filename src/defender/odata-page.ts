/**
 * One page of an OData incident list, read into incident versions: what both APIs' readers share. Items
 * that cannot be read (no id or last-update time) are reported, never silently dropped. A next link is
 * followed only to the API's own origin, so a token is never sent elsewhere.
 */
import { DefenderApiError } from './errors';
import { apiName } from './http';
import { MalformedIncidentError, readIncident, type ApiFlavour, type IncidentVersion } from './incident';

export interface ODataPage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
  '@odata.count'?: unknown;
}

export interface ReadPage {
  incidents: IncidentVersion[];
  /** Why each unreadable item could not be read. */
  malformed: string[];
  /** Items on the page, readable or not. */
  count: number;
}

export function readPage(body: ODataPage, api: ApiFlavour, tenantId: string, portalUrl: string): ReadPage {
  if (!Array.isArray(body.value)) {
    throw new DefenderApiError(
      `${apiName(api)} answered without a "value" array`,
      200,
      'malformed_response',
      true,
    );
  }
  const page: ReadPage = { incidents: [], malformed: [], count: body.value.length };
  for (const item of body.value) {
    if (typeof item !== 'object' || item === null) {
      page.malformed.push('an item that is not an object');
      continue;
    }
    try {
      page.incidents.push(readIncident(item as Record<string, unknown>, api, tenantId, portalUrl));
    } catch (error) {
      if (!(error instanceof MalformedIncidentError)) throw error;
      page.malformed.push(error.message);
    }
  }
  return page;
}

/** `@odata.count` when the API sent a usable one. */
export function odataCount(body: ODataPage): number | undefined {
  const n = body['@odata.count'];
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function sameOriginNextLink(next: unknown, base: string): string | undefined {
  if (typeof next !== 'string' || next === '') return undefined;
  const url = new URL(next, base);
  if (url.origin !== new URL(base).origin) {
    throw new DefenderApiError(
      `refusing to follow @odata.nextLink to another origin (${url.origin})`,
      200,
      'foreign_next_link',
      false,
    );
  }
  return url.toString();
}

/** A query string as OData expects it: spaces as %20, not `+`. */
export function odataQuery(params: Record<string, string>): string {
  return new URLSearchParams(params).toString().replace(/\+/g, '%20');
}
