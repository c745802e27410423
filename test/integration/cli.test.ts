/**
 * The `defender-relay` command as a user runs it: a child process reading settings from its environment,
 * against the simulator and Azurite.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { startWorld, type World } from '../helpers/world';
import { runCli } from '../helpers/cli';
import { runSync } from '../../src/cli/sync-command';

let sim: Simulator;
let world: World;
beforeAll(async () => {
  sim = await startSimulator();
  world = await startWorld({ sim });
});
afterAll(async () => {
  await sim.stop();
});

function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...world.env,
    ...identityEnv(sim),
    ...extra,
  };
}

test('sync --json prints one summary object and exits 0', async () => {
  world.sim.incidents.seed(world.tenantId, 7);
  const { code, stdout, stderr } = await runCli(['sync', '--json'], cliEnv());
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const summary = JSON.parse(lines[0]!);
  expect(summary).toMatchObject({ tenants: 1, incidentsFetched: 7, incidentsDelivered: 7, errors: [] });
  expect(summary.apiCalls).toBeGreaterThanOrEqual(1);
  expect(typeof summary.durationMs).toBe('number');
  expect(await world.drainQueue()).toHaveLength(7);
});

test('a failing tenant makes the exit status non-zero and is named in the summary', async () => {
  const other = sim.addTenant();
  // The app has no consent in `other`: Entra ID refuses the token.
  const { code, stdout } = await runCli(
    ['sync', '--json'],
    cliEnv({ DEFENDER_TENANTS: `${world.tenantId},${other}` }),
  );
  expect(code).toBe(1);
  const summary = JSON.parse(stdout);
  expect(summary.tenants).toBe(2);
  expect(summary.errors).toEqual([
    expect.objectContaining({ tenantId: other, error: expect.stringMatching(/consent|not known/) }),
  ]);
});

test('a misconfiguration exits 2 with the settings named', async () => {
  const { code, stderr } = await runCli(['sync', '--json'], {
    ...cliEnv(),
    DEFENDER_CLIENT_ID: 'nope',
    SYNC_SCHEDULE: 'often',
  });
  expect(code).toBe(2);
  expect(stderr).toContain('DEFENDER_CLIENT_ID: is not a GUID');
  expect(stderr).toContain('SYNC_SCHEDULE:');
});

test('sync --since on a terminal shows a live progress line, then the summary', async () => {
  world.sim.incidents.seed(world.tenantId, 120, { alertsPerIncident: 1 });
  let progress = '';
  let summary = '';
  const err = {
    isTTY: true,
    write: (s: string) => ((progress += s), true),
  } as unknown as NodeJS.WritableStream & {
    isTTY: boolean;
  };
  const out = { write: (s: string) => ((summary += s), true) } as unknown as NodeJS.WritableStream;
  const since = new Date(Date.now() - 2 * 86_400_000).toISOString();
  const code = await runSync(world.relay, { json: false, since, out, err });
  expect(code).toBe(0);
  // One line per page, rewritten in place (carriage return, clear line), then cleared.
  const updates = progress.split('\r\x1b[K').filter(Boolean);
  expect(updates.length).toBeGreaterThanOrEqual(3);
  expect(updates[0]).toMatch(new RegExp(`^${world.tenantId}: \\d+ read, \\d+ delivered`));
  expect(progress.endsWith('\r\x1b[K')).toBe(true);
  expect(summary).toMatch(/tenant\(s\), \d+ incident version\(s\) delivered/);
});

test('sync --since with a time that is not one is refused before anything runs', async () => {
  let err = '';
  const code = await runSync(world.relay, {
    json: true,
    since: 'last tuesday',
    err: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
  });
  expect(code).toBe(2);
  expect(err).toContain('--since: not an ISO 8601 timestamp');
});
