import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS_DOC } from '../../src/config/settings-doc';
import { exampleSettings } from '../../tools/settings-doc';

const root = path.resolve(__dirname, '../..');

describe('the settings documentation matches the schema', () => {
  test('the README table lists every setting', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const rows = new Set([...readme.matchAll(/^\| `([A-Za-z_]+)`\s*\|/gm)].map((m) => m[1]));
    const missing = Object.keys(SETTINGS_DOC).filter((name) => !rows.has(name));
    expect(missing).toEqual([]);
  });

  test('local.settings.example.json holds every setting, as tools/settings-doc.ts writes it', () => {
    const example = JSON.parse(fs.readFileSync(path.join(root, 'local.settings.example.json'), 'utf8'));
    expect(example).toEqual(exampleSettings());
  });
});
