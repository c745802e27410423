import fs from 'node:fs';

/** The "Values" of a local.settings.json file, as the Functions host would put them in the environment. */
export function readLocalSettings(file: string): Record<string, string> {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.Values ?? {}))
    if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}
