/** OData paging of the incident lists: `$top` / `$skip` and the `@odata.nextLink` of the next page. */
import type { DefenderApi } from './types';
import { ODataError } from './incidents';

export function parsePaging(
  url: URL,
  max: number,
  dflt: number,
  api: DefenderApi,
): { top: number; skip: number } {
  const topRaw = url.searchParams.get('$top');
  const skipRaw = url.searchParams.get('$skip');
  const top = topRaw === null ? dflt : Number(topRaw);
  const skip = skipRaw === null ? 0 : Number(skipRaw);
  if (!Number.isInteger(top) || top < 1 || top > max) {
    throw new ODataError(
      api === 'graph'
        ? `Invalid page size specified: '${topRaw ?? ''}'. Must be between 1 and ${max} inclusive.`
        : `The limit of '${max}' for Top query has been exceeded. The value from the incoming request is '${topRaw ?? ''}'.`,
    );
  }
  if (!Number.isInteger(skip) || skip < 0)
    throw new ODataError(`Invalid value for $skip: '${skipRaw ?? ''}'.`);
  return { top, skip };
}

export function nextLink(base: string, url: URL, skip: number): string {
  const params: string[] = [];
  for (const [k, v] of url.searchParams) if (k !== '$skip') params.push(`${k}=${encodeURIComponent(v)}`);
  params.push(`$skip=${skip}`);
  return `${base}?${params.join('&')}`;
}
