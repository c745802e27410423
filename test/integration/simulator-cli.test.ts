/**
 * `npm run simulator` as a user runs it: `--env` prints the relay's own settings as `export` lines a shell
 * can source, `--local-settings` writes a local.settings.json, `--tenants N` serves N consented customer
 * tenants and a local webhook receiver prints what it gets; then the relay's CLI, given only those
 * settings, checks, syncs every tenant and delivers to the receiver. Child processes (the simulator CLI,
 * with its own Azurite, and the relay CLI).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli';

const CLI = path.resolve(__dirname, '../../tools/simulator/cli.ts');
let child: ChildProcess;
let stdout = '';
let stderr = '';
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-sim-cli-'));
  child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('tsx/cjs'),
      CLI,
      '--env',
      '--azurite',
      '--tenants',
      '3',
      '--incidents',
      '4',
      '--local-settings',
      path.join(dir, 'local.settings.json'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!stdout.includes('# simulator ready')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the simulator did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 90_000);
afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What a shell would have after `source`: the `export NAME='value'` lines. */
function sourced(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)='(.*)'$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/'\\''/g, "'");
    else expect(line === '' || line.startsWith('#')).toBe(true);
  }
  return env;
}

test("--env prints only the relay's own setting names, sourceable", () => {
  const env = sourced(stdout);
  for (const name of [
    'DEFENDER_TENANT_ID',
    'DEFENDER_CLIENT_ID',
    'DEFENDER_AUTHORITY_HOST',
    'DEFENDER_GRAPH_BASE_URL',
    'KEY_VAULT_URL',
    'AzureWebJobsStorage',
    'DEFENDER_TENANTS',
    'WEBHOOKS',
    'IDENTITY_ENDPOINT',
    'IDENTITY_HEADER',
  ])
    expect(env[name]).toBeTruthy();
  expect(env.DEFENDER_TENANTS!.split(',')).toHaveLength(3);
  expect(Object.keys(env)).not.toContain('AUTHORITY_HOST');
  expect(Object.keys(env)).not.toContain('CLIENT_ID');
});

test('with those settings alone, the relay CLI checks, syncs every tenant and delivers to the webhook receiver', async () => {
  const env = sourced(stdout);
  const check = await runCli(['check'], env);
  expect(check.stdout).not.toContain('FAIL');
  expect(check.code).toBe(0);
  const sync = await runCli(['sync', '--json', '--deliver-webhooks'], env);
  expect(sync.code).toBe(0);
  const summary = JSON.parse(sync.stdout);
  expect(summary).toMatchObject({ tenants: 3, incidentsDelivered: 12, errors: [] });
  expect(summary.webhooks).toMatchObject({ delivered: 12, poisoned: 0 });
  // The receiver printed each request, with a valid signature.
  const printed = () =>
    stderr.match(
      /^webhook \/local: msg_\S+ com\.microsoft\.defender\.incident\.\S+ .*\(signature valid\)$/gm,
    ) ?? [];
  for (let i = 0; i < 50 && printed().length < 12; i++) await new Promise((r) => setTimeout(r, 100));
  expect(
    stderr.match(
      /^webhook \/local: msg_\S+ com\.microsoft\.defender\.incident\.\S+ .*\(signature valid\)$/gm,
    ),
  ).toHaveLength(12);
  const status = await runCli(['status', '--json'], env);
  expect(JSON.parse(status.stdout).tenants).toHaveLength(3);
}, 120_000);

test('--local-settings wrote a local.settings.json the CLI reads with --settings', async () => {
  const file = path.join(dir, 'local.settings.json');
  const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values: Record<string, string> };
  const env = sourced(stdout);
  for (const [k, v] of Object.entries(written.Values)) expect(env[k]).toBe(v);
  const { code, stdout: out } = await runCli(['tenants', 'list', '--json', '--settings', file], {}, [
    'IDENTITY_ENDPOINT',
    'IDENTITY_HEADER',
  ]);
  expect(code).toBe(0);
  expect(JSON.parse(out).tenants).toHaveLength(3);
});
