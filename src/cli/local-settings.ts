import fs from 'node:fs';

/** A --settings file that cannot be used: the message names the file and what is wrong with it. */
export class SettingsFileError extends Error {}

/**
 * The "Values" of a local.settings.json file, as the Functions host would put them in the environment.
 * A missing, unreadable or malformed file is a SettingsFileError naming the file (never its contents: it
 * can hold a storage key).
 */
export function readLocalSettings(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SettingsFileError(
      code === 'ENOENT'
        ? `--settings: the file ${file} does not exist.`
        : `--settings: the file ${file} cannot be read (${code ?? 'error'}).`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SettingsFileError(
      `--settings: the file ${file} is not valid JSON (${(error as Error).message}).`,
    );
  }
  const values = (parsed as { Values?: unknown } | null)?.Values;
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    throw new SettingsFileError(
      `--settings: the file ${file} has no "Values" object (a local.settings.json holds the app settings in "Values").`,
    );
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

/**
 * Puts the file's values into the process environment, as the Functions host does with
 * local.settings.json: the SDKs that read the environment themselves (the managed-identity endpoint
 * `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`, `AZURE_*`) see them too. A variable already set in the
 * environment wins, as with Core Tools.
 */
export function applyLocalSettings(values: Record<string, string>, env: NodeJS.ProcessEnv): void {
  for (const [k, v] of Object.entries(values)) if (env[k] === undefined) env[k] = v;
}
