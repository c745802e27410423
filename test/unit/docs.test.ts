/** The repository's own documents say what the code does, and point inside the repository. */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { SETTINGS_DOC } from '../../src/config/settings-doc';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

test('the delegated scope is Defender.Act everywhere: code default, docs, no other name', () => {
  expect(SETTINGS_DOC.USER_REQUIRED_SCOPE.default).toBe('Defender.Act');
  expect(read('docs/deploy.md')).toContain('api://<APP_ID>/Defender.Act');
  const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(md|ts|json|bicep|mjs|cjs)$/.test(f) && f !== 'test/unit/docs.test.ts');
  const mentions = tracked.filter(
    (f) => fs.existsSync(path.join(root, f)) && read(f).includes('access_as_user'),
  );
  expect(mentions).toEqual([]);
});

test('LICENSE is the MIT licence package.json names, for the contributors', () => {
  const pkg = JSON.parse(read('package.json')) as { license: string };
  expect(pkg.license).toBe('MIT');
  const license = read('LICENSE');
  expect(license).toMatch(/^MIT License/);
  expect(license).toContain('Copyright (c) 2026 Defender Relay contributors');
  expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
});

test('CONTRIBUTING.md points only inside the repository', () => {
  const text = read('CONTRIBUTING.md');
  expect(text).not.toMatch(/\.\.\//);
  for (const [, target] of text.matchAll(/\]\(([^)#]+)/g))
    if (!/^https?:/.test(target!)) expect(fs.existsSync(path.join(root, target!))).toBe(true);
});

test('the README has the sections a team reads before adopting it', () => {
  const readme = read('README.md');
  for (const heading of [
    '## Permissions, in one table',
    '## How it compares',
    '## What it costs to run',
    '## Upgrade and rollback',
  ])
    expect(readme).toContain(heading);
});
