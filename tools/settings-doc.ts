/**
 * Prints the settings as a Markdown table (for the README) or as a local.settings.json example:
 *   npx tsx tools/settings-doc.ts markdown | example
 * test/unit/settings-doc.test.ts keeps the README and local.settings.example.json in step with the schema.
 */
import { settingsSchema, type SettingName } from '../src/config/settings';
import { SETTINGS_DOC } from '../src/config/settings-doc';

export const EXAMPLE_VALUES: Partial<Record<SettingName, string>> = {
  DEFENDER_TENANT_ID: '00000000-0000-0000-0000-000000000000',
  DEFENDER_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
  KEY_VAULT_URL: 'https://<your-vault>.vault.azure.net',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

/** Required means the schema rejects it missing; other rules (one of two storage forms, Key Vault only for
 * a stored credential) are checked at start and described in the meaning column. */
function isRequired(name: SettingName): boolean {
  return !settingsSchema.shape[name].safeParse(undefined).success;
}

export function markdownTable(): string {
  const rows = (
    Object.entries(SETTINGS_DOC) as [SettingName, { default?: string; description: string }][]
  ).map(
    ([name, doc]) =>
      `| \`${name}\` | ${doc.default ? `\`${doc.default}\`` : isRequired(name) ? '**required**' : '(see meaning)'} | ${doc.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| Setting | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

export function exampleSettings(): Record<string, unknown> {
  const values: Record<string, string> = { FUNCTIONS_WORKER_RUNTIME: 'node' };
  for (const [name, doc] of Object.entries(SETTINGS_DOC) as [SettingName, { default?: string }][]) {
    const def = doc.default && !doc.default.startsWith('(') ? doc.default : '';
    values[name] = EXAMPLE_VALUES[name] ?? def;
  }
  return { IsEncrypted: false, Values: values };
}

if (require.main === module) {
  const what = process.argv[2];
  if (what === 'markdown') console.log(markdownTable());
  else if (what === 'example') console.log(JSON.stringify(exampleSettings(), null, 2));
  else {
    console.error('usage: tsx tools/settings-doc.ts markdown|example');
    process.exit(2);
  }
}
