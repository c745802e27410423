/**
 * The CSV of `tenants import`: one tenant a row, `tenant id, display name` (the name optional), a header
 * row optional (a first row whose first cell is not a GUID and names a tenant column), fields optionally
 * in double quotes (RFC 4180: `""` is a quote inside), blank lines and `#` comments skipped. Every bad
 * row is named by its line number; a tenant id twice is a bad row too.
 */
import { isTenantId } from '../tenants/tenant-registry';

export interface TenantCsvRow {
  line: number;
  tenantId: string;
  displayName?: string;
}

/** The cells of one CSV line, or undefined when a quote is not closed. */
function cells(line: string): string[] | undefined {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted && c === '"' && line[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted) {
      if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === ',' || c === ';' || c === '\t') {
      out.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  if (quoted) return undefined;
  out.push(cell.trim());
  return out;
}

export function parseTenantCsv(text: string): {
  rows: TenantCsvRow[];
  problems: { line: number; problem: string }[];
} {
  const rows: TenantCsvRow[] = [];
  const problems: { line: number; problem: string }[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || raw.trim().startsWith('#')) return;
    const row = cells(raw);
    if (!row) return void problems.push({ line, problem: 'a quoted field is not closed' });
    const [id = '', name = '', ...extra] = row;
    if (rows.length === 0 && problems.length === 0 && !isTenantId(id) && /tenant/i.test(id)) return; // header
    if (!isTenantId(id))
      return void problems.push({ line, problem: 'the first field is not a tenant id (a GUID)' });
    if (extra.some((e) => e !== ''))
      return void problems.push({ line, problem: 'has more than two fields (tenant id, display name)' });
    const tenantId = id.toLowerCase();
    const first = seen.get(tenantId);
    if (first !== undefined)
      return void problems.push({ line, problem: `tenant ${tenantId} is already on line ${first}` });
    seen.set(tenantId, line);
    rows.push({ line, tenantId, ...(name ? { displayName: name } : {}) });
  });
  if (rows.length === 0 && problems.length === 0)
    problems.push({ line: 1, problem: 'the file holds no tenant' });
  return { rows, problems };
}
