/**
 * The `defender-relay` command's exit codes and messages as the README states them: a usage error exits
 * 2 with the usage on stderr; a bad --settings file is named; settings in a local.settings.json are
 * honoured like the environment (the SDKs' own variables too); unreachable storage is said in words.
 * Child processes against the simulator and Azurite.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { QueueServiceClient } from '@azure/storage-queue';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { startWorld, type World } from '../helpers/world';
import { runCli } from '../helpers/cli';

let sim: Simulator;
let world: World;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator();
  world = await startWorld({ sim });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-cli-usage-'));
});
afterAll(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cliEnv = () => ({ ...world.env, ...identityEnv(sim) });

test.each([
  [['sync', '--no-such-option'], /Unknown option '--no-such-option'/],
  [['frobnicate'], /Unknown command "frobnicate"/],
  [[], /Which command\?/],
  [['sync', '--since'], /--since/],
])('%j exits 2 with the reason and the usage on stderr', async (args, reason) => {
  const { code, stdout, stderr } = await runCli(args, cliEnv());
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toMatch(reason);
  expect(stderr).toContain('Usage: defender-relay <command> [options]');
});

test('an unknown command is a usage error even when no settings are set', async () => {
  const { code, stderr } = await runCli(['frobnicate'], {}, ['DEFENDER_TENANT_ID', 'DEFENDER_CLIENT_ID']);
  expect(code).toBe(2);
  expect(stderr).toContain('Unknown command "frobnicate"');
  expect(stderr).not.toContain('DEFENDER_TENANT_ID');
});

test('help exits 0 with the usage on stdout', async () => {
  const { code, stdout } = await runCli(['help'], {});
  expect(code).toBe(0);
  expect(stdout).toContain('Usage: defender-relay <command> [options]');
});

test('a missing --settings file is named', async () => {
  const file = path.join(dir, 'nowhere.json');
  const { code, stderr } = await runCli(['status', '--settings', file], cliEnv());
  expect(code).toBe(2);
  expect(stderr.trim()).toBe(`--settings: the file ${file} does not exist.`);
});

test('a malformed --settings file is named, and its contents are not echoed', async () => {
  const file = path.join(dir, 'broken.json');
  fs.writeFileSync(file, '{ "Values": { "AzureWebJobsStorage": "AccountKey=c2VjcmV0" ');
  const { code, stderr } = await runCli(['status', '--settings', file], cliEnv());
  expect(code).toBe(2);
  expect(stderr).toContain(`--settings: the file ${file} is not valid JSON`);
  expect(stderr).not.toContain('c2VjcmV0');
});

test('a --settings file without a "Values" object is named', async () => {
  const file = path.join(dir, 'novalues.json');
  fs.writeFileSync(file, JSON.stringify({ IsEncrypted: false }));
  const { code, stderr } = await runCli(['status', '--settings', file], cliEnv());
  expect(code).toBe(2);
  expect(stderr).toContain(`--settings: the file ${file} has no "Values" object`);
});

test('every value of a local.settings.json is honoured, IDENTITY_ENDPOINT included', async () => {
  world.sim.incidents.seed(world.tenantId, 3);
  const file = path.join(dir, 'local.settings.json');
  // Everything the relay needs comes from the file: the managed-identity endpoint too (read by
  // @azure/identity from the environment, as the Functions host sets it).
  fs.writeFileSync(file, JSON.stringify({ IsEncrypted: false, Values: cliEnv() }));
  const names = Object.keys(cliEnv());
  const { code, stdout, stderr } = await runCli(['sync', '--json', '--settings', file], {}, names);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ tenants: 1, incidentsDelivered: 3, errors: [] });
  expect(await world.drainQueue()).toHaveLength(3);
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('storage that cannot be reached is said in words, naming the setting', async () => {
  const port = await closedPort();
  const unreachable = world.env.AzureWebJobsStorage!.replace(/127\.0\.0\.1:\d+/g, `127.0.0.1:${port}`);
  for (const command of [['status'], ['sync', '--json'], ['tenants', 'list']]) {
    const { code, stderr } = await runCli(command, { ...cliEnv(), AzureWebJobsStorage: unreachable });
    expect(code).toBe(1);
    expect(stderr).toContain(`Storage at http://127.0.0.1:${port} could not be reached (ECONNREFUSED)`);
    expect(stderr).toContain('check AzureWebJobsStorage');
    expect(stderr).not.toMatch(/connect ECONNREFUSED/);
  }
}, 180_000);

/** The README's Azurite command, run as written (plus free ports), serves the relay's storage SDKs. */
test("the README's Azurite command works with the relay's storage SDK", async () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const command = /`(npx azurite [^`]*)`/.exec(readme)?.[1];
  expect(command).toBeDefined();
  const ports = { blob: await closedPort(), queue: await closedPort(), table: await closedPort() };
  const args = command!.split(/\s+/).slice(2);
  const workspace = fs.mkdtempSync(path.join(dir, 'azurite-'));
  const child = spawn(
    process.execPath,
    [
      require.resolve('azurite/dist/src/azurite.js'),
      ...args,
      ...['--blobPort', String(ports.blob), '--queuePort', String(ports.queue)],
      ...['--tablePort', String(ports.table), '--silent'],
    ],
    { cwd: workspace, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  try {
    const cs = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;QueueEndpoint=http://127.0.0.1:${ports.queue}/devstoreaccount1`;
    const queues = QueueServiceClient.fromConnectionString(cs, {
      retryOptions: { maxTries: 10, retryDelayInMs: 200 },
    });
    const queue = queues.getQueueClient('readme-check');
    await queue.createIfNotExists();
    await queue.sendMessage('hello');
    const { receivedMessageItems } = await queue.receiveMessages();
    expect(receivedMessageItems.map((m) => m.messageText)).toEqual(['hello']);
  } finally {
    child.kill();
  }
}, 60_000);
