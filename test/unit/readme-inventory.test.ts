/** The README lists every HTTP route the app registers and every queue the relay uses. */
import fs from 'node:fs';
import path from 'node:path';
import { HTTP_FUNCTIONS } from '../../src/functions/http-functions';
import { SETTINGS_DOC } from '../../src/config/settings-doc';

const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
const deploy = fs.readFileSync(path.resolve(__dirname, '../../docs/deploy.md'), 'utf8');

test.each(HTTP_FUNCTIONS.map((f) => [f.name, f]))('the README lists the route of %s', (_name, f) => {
  const route = `/api/${f.route.replace(/\?\}/g, '}')}`;
  const method = f.methods[0]!;
  expect(readme).toMatch(new RegExp(`\`${method} ${route.replace(/[{}/]/g, '\\$&')}\``));
});

/** Every queue the relay uses is named by a `…_QUEUE_NAME` setting. */
const QUEUE_SETTINGS = (Object.keys(SETTINGS_DOC) as (keyof typeof SETTINGS_DOC)[]).filter((k) =>
  k.endsWith('_QUEUE_NAME'),
);

test.each(QUEUE_SETTINGS)(
  'the storage lists of the README and docs/deploy.md name the queue of %s',
  (setting) => {
    const name = SETTINGS_DOC[setting].default!;
    const storage = /\*\*Storage\*\*[^\n]*(?:\n(?!\n)[^\n]*)*/.exec(readme)?.[0] ?? '';
    expect(storage).toContain(`\`${name}\``);
    const deployRow = deploy.split('\n').find((l) => l.includes('storage account, shared keys')) ?? '';
    expect(deployRow).toContain(`\`${name}\``);
  },
);

test('the README names every tenants action', () => {
  for (const action of ['list', 'add', 'enable', 'disable', 'remove', 'import', 'invite', 'set-api'])
    expect(readme).toMatch(new RegExp(`tenants [a-z|-]*\\b${action}\\b`));
});
