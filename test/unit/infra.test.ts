/**
 * The Bicep in infra/ deploys what the code reads: every app setting of the config schema
 * (SETTINGS_DOC) is set on the Function App, and every queue, table and blob container the code uses by
 * default is created. The Bicep text is parsed here (no Bicep CLI needed: tools/bicep/check.sh compiles
 * and lints it). The checks are plain functions, so they are also shown to FAIL on a Bicep text with a
 * setting or a queue removed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SettingName } from '../../src/config/settings';
import { SETTINGS_DOC } from '../../src/config/settings-doc';

const MAIN_BICEP = path.join(__dirname, '..', '..', 'infra', 'main.bicep');
const STORAGE_BICEP = path.join(__dirname, '..', '..', 'infra', 'modules', 'storage.bicep');

/** Settings satisfied by others in Azure: the connection string is replaced by identity-based storage. */
const REPLACED_IN_AZURE: Partial<Record<SettingName, string[]>> = {
  AzureWebJobsStorage: [
    'AzureWebJobsStorage__credential',
    'AzureWebJobsStorage__clientId',
    'AzureWebJobsStorage__blobServiceUri',
    'AzureWebJobsStorage__queueServiceUri',
    'AzureWebJobsStorage__tableServiceUri',
  ],
};

/** The body of `var <name> = { ... }` or `var <name> = [ ... ]` (up to the closing bracket at column 0). */
export function varBlock(bicep: string, name: string): string | undefined {
  const lines = bicep.split(/\r?\n/);
  const start = lines.findIndex((l) => new RegExp(`^var\\s+${name}\\s*=\\s*[[{]\\s*$`).test(l));
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && /^[\]}]/.test(l));
  if (end < 0) return undefined;
  return lines.slice(start + 1, end).join('\n');
}

/** Keys of the `appSettings` object in the Bicep, with the expression each is set to. */
export function bicepAppSettings(bicep: string): Map<string, string> {
  const block = varBlock(bicep, 'appSettings');
  const settings = new Map<string, string>();
  if (block === undefined) return settings;
  for (const line of block.split('\n')) {
    const m = /^\s*'?([A-Za-z_][A-Za-z0-9_]*)'?\s*:\s*(.+?)\s*$/.exec(line);
    if (m && !line.trim().startsWith('//')) settings.set(m[1]!, m[2]!);
  }
  return settings;
}

/** The default of `param <name> <type> = <literal>`, as the string the app setting would hold. */
export function paramDefault(bicep: string, name: string): string | undefined {
  const m = new RegExp(`^param\\s+${name}\\s+(?:string|int|bool|array)\\s*=\\s*(.+?)\\s*$`, 'm').exec(bicep);
  if (!m) return undefined;
  const literal = m[1]!;
  const quoted = /^'((?:[^'\\]|\\.)*)'$/.exec(literal);
  if (quoted) return quoted[1]!.replace(/\\'/g, "'");
  return literal;
}

/** Setting names the Bicep does not set (the deployment would start the app without them). */
export function missingSettings(
  bicep: string,
  names: readonly string[] = Object.keys(SETTINGS_DOC),
): string[] {
  const set = bicepAppSettings(bicep);
  return names.filter((name) => {
    const replacements = REPLACED_IN_AZURE[name as SettingName];
    if (replacements) return !replacements.every((r) => set.has(r));
    return !set.has(name);
  });
}

/** Settings whose Bicep default (through a param) differs from the schema's documented default. */
export function mismatchedDefaults(
  bicep: string,
): { setting: string; schema: string; bicep: string | undefined }[] {
  const set = bicepAppSettings(bicep);
  const out: { setting: string; schema: string; bicep: string | undefined }[] = [];
  for (const [setting, doc] of Object.entries(SETTINGS_DOC)) {
    // "(per cloud) ...", "(the home tenant)", "(system-assigned)": the relay's default is "unset".
    if (doc.default === undefined || doc.default.startsWith('(')) continue;
    const expr = set.get(setting);
    const param = expr && /^(?:string\()?([A-Za-z_][A-Za-z0-9_]*)\)?$/.exec(expr)?.[1];
    if (!param) continue;
    const value = paramDefault(bicep, param);
    if (value !== doc.default) out.push({ setting, schema: doc.default, bicep: value });
  }
  return out;
}

/** Resolves the items of a Bicep array variable: string literals, or params (to their defaults). */
export function arrayItems(bicep: string, name: string): string[] {
  const block = varBlock(bicep, name) ?? '';
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('//'))
    .map((item) => {
      const quoted = /^'([^']*)'$/.exec(item);
      if (quoted) return quoted[1]!;
      return paramDefault(bicep, item) ?? `<unresolved ${item}>`;
    });
}

/** Storage resources the code uses by default: the defaults of the *_QUEUE/_TABLE/_CONTAINER_NAME settings. */
export function defaultStorageNames(): { queues: string[]; tables: string[]; containers: string[] } {
  const pick = (suffix: string) =>
    Object.entries(SETTINGS_DOC)
      .filter(([name, doc]) => name.endsWith(suffix) && doc.default !== undefined)
      .map(([, doc]) => doc.default!);
  return { queues: pick('_QUEUE_NAME'), tables: pick('_TABLE_NAME'), containers: pick('_CONTAINER_NAME') };
}

/** Default queue/table/container names the Bicep does not create. */
export function missingStorage(bicep: string): string[] {
  const wanted = defaultStorageNames();
  const queues = arrayItems(bicep, 'relayQueues');
  const tables = arrayItems(bicep, 'tableNames');
  const containers = arrayItems(bicep, 'containerNames');
  return [
    ...wanted.queues.filter((q) => !queues.includes(q)).map((q) => `queue ${q}`),
    ...wanted.tables.filter((t) => !tables.includes(t)).map((t) => `table ${t}`),
    ...wanted.containers.filter((c) => !containers.includes(c)).map((c) => `container ${c}`),
  ];
}

const bicep = readFileSync(MAIN_BICEP, 'utf8');

describe('infra/main.bicep sets every app setting the relay reads', () => {
  test('finds the appSettings block', () => {
    expect(bicepAppSettings(bicep).size).toBeGreaterThan(10);
  });

  test('every key of SETTINGS_DOC is set (AzureWebJobsStorage through the identity-based settings)', () => {
    expect(missingSettings(bicep)).toEqual([]);
  });

  test('AzureWebJobsStorage itself (a connection string, possibly with a key) is not set in Azure', () => {
    expect(bicepAppSettings(bicep).has('AzureWebJobsStorage')).toBe(false);
    expect(bicepAppSettings(bicep).get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
  });

  test("Entra-authenticated Application Insights with the identity's client id", () => {
    expect(bicepAppSettings(bicep).get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(
      "'ClientId=${identity.outputs.clientId};Authorization=AAD'",
    );
  });

  test("defaults in the Bicep are the schema's defaults", () => {
    expect(mismatchedDefaults(bicep)).toEqual([]);
  });

  test('no setting holds a secret value: secrets are read from KEY_VAULT_URL', () => {
    for (const [name] of bicepAppSettings(bicep)) {
      expect(name).not.toMatch(/(SECRET|PASSWORD|_KEY|TOKEN)$/i);
    }
    // No secret parameter, no storage key read out of the account.
    expect(bicep).not.toMatch(/@secure\(\)/);
    expect(bicep).not.toMatch(/listKeys\(/);
  });

  test.each(Object.keys(SETTINGS_DOC))('the check fails when %s is removed from the Bicep', (name) => {
    const lines = bicep.split('\n');
    const keys = REPLACED_IN_AZURE[name as SettingName] ?? [name];
    // Remove one line that sets the setting (for AzureWebJobsStorage: one of its identity-based lines).
    const index = lines.findIndex((l) => new RegExp(`^\\s*'?${keys[0]}'?\\s*:`).test(l));
    expect(index).toBeGreaterThan(0);
    const broken = [...lines.slice(0, index), ...lines.slice(index + 1)].join('\n');
    // Removing one identity-based storage line also leaves AzureWebJobsStorage unsatisfied.
    const alsoMissing = Object.entries(REPLACED_IN_AZURE)
      .filter(([, replacements]) => replacements.includes(name))
      .map(([replaced]) => replaced);
    const expected = new Set([name, keys[0]!, ...alsoMissing]);
    expect(missingSettings(broken).sort()).toEqual([...expected].sort());
  });
});

describe('infra/main.bicep creates the storage the code uses by default', () => {
  test('the defaults are found in SETTINGS_DOC', () => {
    const names = defaultStorageNames();
    expect(names.queues).toContain('defender-incidents');
    expect(names.tables).toContain('relaystate');
    expect(names.containers).toContain('defender-incident-payloads');
  });

  test('every default queue, table and container is created', () => {
    expect(missingStorage(bicep)).toEqual([]);
  });

  test('every relay queue gets its -poison queue, and the storage module creates all three kinds', () => {
    expect(bicep).toMatch(/var queueNames = flatten\(map\(relayQueues, q => \[q, '\$\{q\}-poison'\]\)\)/);
    const storage = readFileSync(STORAGE_BICEP, 'utf8');
    expect(storage).toMatch(/queueServices\/queues@[\d-]+' = \[\s*for queueName in queueNames/);
    expect(storage).toMatch(/tableServices\/tables@[\d-]+' = \[\s*for tableName in tableNames/);
    expect(storage).toMatch(/containers@[\d-]+' = \[\s*for containerName in containerNames/);
    expect(storage).toMatch(/allowSharedKeyAccess: false/);
  });

  test('the check fails when a default queue is not created', () => {
    const broken = bicep.replace(/^(\s*)incidentsQueueName\s*$/m, "$1'some-other-queue'");
    expect(broken).not.toBe(bicep);
    expect(missingStorage(broken)).toEqual(['queue defender-incidents']);
  });

  test('the check fails when a param default drifts from the schema', () => {
    const broken = bicep.replace(
      "param stateTableName string = 'relaystate'",
      "param stateTableName string = 'otherstate'",
    );
    expect(broken).not.toBe(bicep);
    expect(missingStorage(broken)).toEqual(['table relaystate']);
    expect(mismatchedDefaults(broken)).toEqual([
      { setting: 'STATE_TABLE_NAME', schema: 'relaystate', bicep: 'otherstate' },
    ]);
  });
});
