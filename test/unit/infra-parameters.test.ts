/**
 * A redeploy changes nothing the user chose: every setting a user sets is a parameter of infra/main.bicep
 * with its default, the app setting is written from it, infra/main.parameters.json passes it from the azd
 * environment (`${NAME=default}`), and the deploy workflow keeps the repository's variables in that
 * environment. The template is compiled with the real Bicep CLI (tools/bicep/install.sh finds it; $BICEP
 * overrides), so what is checked is what Azure Resource Manager receives.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SETTINGS_DOC } from '../../src/config/settings-doc';

const root = path.resolve(__dirname, '../..');
const PARAMETERS_FILE = path.join(root, 'infra', 'main.parameters.json');

interface ArmParameter {
  type: string;
  defaultValue?: unknown;
}
interface ArmTemplate {
  parameters: Record<string, ArmParameter>;
  resources: {
    name?: string;
    properties?: { parameters?: Record<string, { value?: unknown }>; template?: ArmTemplate };
  }[];
}
type ParametersFile = { parameters: Record<string, { value: unknown }> };

/** Settings Bicep computes from what it deploys (the vault, the identity, the storage account). */
const SET_FROM_RESOURCES = new Set([
  'KEY_VAULT_URL',
  'MANAGED_IDENTITY_CLIENT_ID',
  'AzureWebJobsStorage',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__tableServiceUri',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
]);
/** Parameters azd fills itself (`azd env new`), without a default. */
const REQUIRED = new Set(['environmentName', 'location', 'defenderClientId']);

/** The parameter an app setting is written from (`[parameters('x')]`, `[string(parameters('x'))]`, …). */
function parameterOf(expression: unknown): string | undefined {
  if (typeof expression !== 'string') return undefined;
  const names = new Set([...expression.matchAll(/parameters\('([A-Za-z0-9_]+)'\)/g)].map((m) => m[1]!));
  return names.size === 1 ? [...names][0] : undefined;
}

/** An ARM default as the text azd substitutes (ARM escapes a leading `[` as `[[`). */
function defaultText(value: unknown): string {
  if (typeof value === 'string') return value.startsWith('[[') ? value.slice(1) : value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** `${NAME}` and `${NAME=default}` as drone/envsubst (azd's substitution) expands them. */
function envsubst(text: string, env: Record<string, string>): { text: string; unset: boolean } {
  let unset = false;
  const out = text.replace(/\$\{([A-Za-z0-9_]+)(?:=([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
    if (name in env) return env[name]!;
    unset = true;
    return fallback ?? '';
  });
  return { text: out, unset };
}

/**
 * What azd passes to ARM for infra/main.parameters.json, as azd's Bicep provider resolves it (azure-dev,
 * cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go, `loadParameters`): an `array`/`object` parameter
 * whose value is a string is substituted alone and parsed as JSON; any other parameter is substituted inside
 * its JSON-encoded `{"value": …}` and parsed back, so a value with a `"` in it breaks the file there.
 */
function azdResolve(
  template: ArmTemplate,
  file: ParametersFile,
  env: Record<string, string>,
): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(file.parameters)) {
    const type = template.parameters[name]?.type.toLowerCase();
    if ((type === 'array' || type === 'object') && typeof param.value === 'string') {
      const { text, unset } = envsubst(param.value, env);
      if (text === '' && unset) continue;
      resolved[name] = JSON.parse(text);
      continue;
    }
    const { text } = envsubst(JSON.stringify(param), env);
    resolved[name] = (JSON.parse(text) as { value: unknown }).value;
  }
  return resolved;
}

function appSettingsOf(template: ArmTemplate): Record<string, unknown> {
  const app = template.resources.find((r) => r.name === 'functionapp');
  return (app?.properties?.parameters?.appSettings?.value ?? {}) as Record<string, unknown>;
}

/** User settings of SETTINGS_DOC that no parameter writes, or whose parameter has no default. */
export function settingsWithoutParameter(template: ArmTemplate): string[] {
  const app = appSettingsOf(template);
  return Object.keys(SETTINGS_DOC).filter((setting) => {
    if (SET_FROM_RESOURCES.has(setting)) return false;
    const param = parameterOf(app[setting]);
    if (!param || !template.parameters[param]) return true;
    return !REQUIRED.has(param) && template.parameters[param]!.defaultValue === undefined;
  });
}

/** What infra/main.parameters.json should say for each template parameter. */
export function expectedReferences(template: ArmTemplate, envNameOf: (param: string) => string) {
  const out: Record<string, string> = {};
  for (const [param, p] of Object.entries(template.parameters)) {
    const name = envNameOf(param);
    out[param] = REQUIRED.has(param) ? `\${${name}}` : `\${${name}=${defaultText(p.defaultValue)}}`;
  }
  return out;
}

/** The azd environment name of a parameter: the setting's own name when it writes one. */
function envNames(template: ArmTemplate): (param: string) => string {
  const bySetting = new Map<string, string>();
  for (const [setting, expr] of Object.entries(appSettingsOf(template))) {
    const param = parameterOf(expr);
    if (param && SETTINGS_DOC[setting as keyof typeof SETTINGS_DOC]) bySetting.set(param, setting);
  }
  const file = JSON.parse(fs.readFileSync(PARAMETERS_FILE, 'utf8')) as ParametersFile;
  return (param) =>
    bySetting.get(param) ?? /^\$\{([A-Za-z0-9_]+)/.exec(String(file.parameters[param]?.value))?.[1] ?? '?';
}

/**
 * The Bicep CLI (tools/bicep/install.sh: $BICEP, PATH, az, or NuGet through dotnet). Without one these
 * tests are skipped, as the worker tests are without the worker; under CI=true they fail instead.
 */
function findBicep(): string | undefined {
  try {
    return execFileSync('bash', [path.join(root, 'tools/bicep/install.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch {
    return undefined;
  }
}
const bicep = findBicep();
const withBicep = bicep || process.env.CI === 'true' ? describe : describe.skip;

let template: ArmTemplate;
beforeAll(() => {
  if (!bicep) {
    if (process.env.CI === 'true') throw new Error('No Bicep CLI: bash tools/bicep/install.sh failed.');
    return;
  }
  const out = execFileSync(bicep, ['build', path.join(root, 'infra/main.bicep'), '--stdout'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  template = JSON.parse(out) as ArmTemplate;
}, 240_000);

withBicep('every user setting survives a redeploy', () => {
  test('each setting a user sets is written from a Bicep parameter with a default', () => {
    expect(Object.keys(template.parameters).length).toBeGreaterThan(40);
    expect(settingsWithoutParameter(template)).toEqual([]);
    const app = appSettingsOf(template);
    expect(parameterOf(app.WEBHOOKS)).toBe('webhooks');
    expect(parameterOf(app.CONSENT_REDIRECT_URI)).toBe('consentRedirectUri');
  });

  test('the check fails when a setting is written from a literal instead of a parameter', () => {
    const broken = structuredClone(template);
    appSettingsOf(broken).WEBHOOKS = '[[]';
    expect(settingsWithoutParameter(broken)).toEqual(['WEBHOOKS']);
  });

  test('infra/main.parameters.json passes every parameter from the azd environment, with its default', () => {
    const file = JSON.parse(fs.readFileSync(PARAMETERS_FILE, 'utf8')) as ParametersFile;
    const actual = Object.fromEntries(Object.entries(file.parameters).map(([k, v]) => [k, v.value]));
    expect(actual).toEqual(expectedReferences(template, envNames(template)));
    expect(actual.webhooks).toBe('${WEBHOOKS=[]}');
    expect(actual.consentRedirectUri).toBe('${CONSENT_REDIRECT_URI=}');
    expect(actual.syncOverlapMinutes).toBe('${SYNC_OVERLAP_MINUTES=10}');
  });

  test('JSON settings (WEBHOOKS, INBOUND_SENDERS) reach ARM intact through azd: their parameters are arrays', () => {
    const file = JSON.parse(fs.readFileSync(PARAMETERS_FILE, 'utf8')) as ParametersFile;
    const webhooks = [{ name: 'soc-teams', format: 'teams', urlSecret: 'teams-url' }];
    const senders = [{ name: 'servicenow', secret: 'sn-secret', tenants: ['t1'] }];
    const env = { WEBHOOKS: JSON.stringify(webhooks), INBOUND_SENDERS: JSON.stringify(senders) };
    const resolved = azdResolve(template, file, env);
    expect(resolved.webhooks).toEqual(webhooks);
    expect(resolved.inboundSenders).toEqual(senders);
    expect(azdResolve(template, file, {}).webhooks).toEqual([]);
    // The app setting is the JSON text again (`string(array)`), which the relay's schema parses.
    expect(appSettingsOf(template).WEBHOOKS).toBe("[string(parameters('webhooks'))]");
    // As a string parameter, the same value breaks the parameters file (the JSON text is not escaped).
    const asString = structuredClone(template);
    asString.parameters.webhooks!.type = 'string';
    expect(() => azdResolve(asString, file, env)).toThrow(SyntaxError);
  });

  test('docs/deploy.md documents each azd environment name', () => {
    const deploy = fs.readFileSync(path.join(root, 'docs/deploy.md'), 'utf8');
    const names = Object.values(expectedReferences(template, envNames(template))).map(
      (v) => /^\$\{([A-Za-z0-9_]+)/.exec(v)![1]!,
    );
    expect(names.filter((n) => !deploy.includes(`\`${n}\``))).toEqual([]);
  });
});

describe('the deploy workflow keeps the repository variables in the azd environment', () => {
  const workflow = fs.readFileSync(path.join(root, '.github/workflows/ci.yml'), 'utf8');

  test('it stores them (tools/azd-env-from-vars.mjs with every variable) before azd up', () => {
    const store = workflow.indexOf('node tools/azd-env-from-vars.mjs');
    expect(store).toBeGreaterThan(0);
    expect(workflow).toContain('VARS_JSON: ${{ toJSON(vars) }}');
    expect(workflow.indexOf('azd up --no-prompt')).toBeGreaterThan(store);
  });

  test('the script sets each parameter given a value, JSON intact, and leaves the rest to their defaults', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azd-'));
    try {
      // A stand-in `azd` on PATH that records its arguments, one JSON array per call.
      const calls = path.join(dir, 'calls');
      fs.writeFileSync(
        path.join(dir, 'azd'),
        `#!/usr/bin/env node\nrequire('fs').appendFileSync(${JSON.stringify(calls)}, JSON.stringify(process.argv.slice(2)) + '\\n');\n`,
        { mode: 0o755 },
      );
      const webhooks = '[{"name":"soc-teams","format":"teams","urlSecret":"teams-url"}]';
      execFileSync(process.execPath, [path.join(root, 'tools/azd-env-from-vars.mjs')], {
        env: {
          ...process.env,
          PATH: `${dir}${path.delimiter}${process.env.PATH}`,
          VARS_JSON: JSON.stringify({
            WEBHOOKS: webhooks,
            CONSENT_REDIRECT_URI: 'https://relay.example/api/consent/callback',
            DEFENDER_TENANTS: '',
            AZURE_ENV_NAME: 'prod',
            UNRELATED: 'x',
          }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const made = fs
        .readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as string[]);
      expect(made).toEqual([
        ['env', 'set', 'CONSENT_REDIRECT_URI', 'https://relay.example/api/consent/callback'],
        ['env', 'set', 'WEBHOOKS', webhooks],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

withBicep('an operator principal gets the roles the CLI needs', () => {
  test('main.bicep passes operatorPrincipalId and its type to the role assignments', () => {
    expect(template.parameters.operatorPrincipalId).toMatchObject({ type: 'string', defaultValue: '' });
    expect(template.parameters.operatorPrincipalType).toMatchObject({ defaultValue: 'User' });
    const roles = template.resources.find((r) => r.name === 'roles')!;
    expect(roles.properties?.parameters?.operatorPrincipalId?.value).toBe(
      "[parameters('operatorPrincipalId')]",
    );
    const text = JSON.stringify(roles.properties?.template);
    // Storage Blob/Queue/Table Data Contributor and Key Vault Secrets User (ids: infra/modules/roles.bicep).
    for (const id of [
      'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
      '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      '4633458b-17de-408a-b874-0445c86b69e6',
    ])
      expect(text).toContain(id);
    expect(text).toContain("not(empty(parameters('operatorPrincipalId')))");
  });
});
