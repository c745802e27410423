/**
 * Which tenant source wins: a tenant of DEFENDER_TENANTS is synced only while the setting lists it, even
 * after an operator's change made a registry row for it (set-api, disable, enable); a tenant onboarded in
 * the registry (`tenants add`, admin consent) stays until the registry says otherwise. `tenants list`
 * shows each tenant's source. Child processes against the simulator and Azurite.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { partnerWorld, type PartnerWorld } from '../helpers/partner';
import { runCli } from '../helpers/cli';

interface Listed {
  tenantId: string;
  status: string;
  source: string;
  removedFrom?: string;
}

let sim: Simulator;
let world: PartnerWorld;
let a: string;
let b: string;
let c: string;
beforeAll(async () => {
  sim = await startSimulator();
  world = partnerWorld(sim);
  [a, b, c] = [1, 2, 3].map(() => world.addCustomer({ consent: true })) as [string, string, string];
});
afterAll(async () => {
  await sim.stop();
});

const run = (args: string[], tenants: string[]) =>
  runCli(args, { ...world.env, ...identityEnv(sim), DEFENDER_TENANTS: tenants.join(',') });
const list = async (tenants: string[], all = false) =>
  (
    JSON.parse((await run(['tenants', 'list', '--json', ...(all ? ['--all'] : [])], tenants)).stdout) as {
      tenants: Listed[];
    }
  ).tenants;

test('a setting tenant changed by an operator, then dropped from DEFENDER_TENANTS, is no longer synced', async () => {
  expect((await run(['tenants', 'set-api', a, 'legacy'], [a, b, c])).code).toBe(0);
  expect((await run(['tenants', 'disable', b], [a, b, c])).code).toBe(0);
  expect((await run(['tenants', 'enable', b], [a, b, c])).code).toBe(0);
  // While listed, they are setting tenants (the rows only hold the operator's changes).
  expect(await list([a, b, c])).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ tenantId: a, status: 'enabled', source: 'setting' }),
      expect.objectContaining({ tenantId: b, status: 'enabled', source: 'setting' }),
    ]),
  );

  // The setting drops a and b: they stop, their rows are kept (seen with --all) and say why.
  const now = await list([c]);
  expect(now.map((t) => t.tenantId)).toEqual([c]);
  const all = await list([c], true);
  expect(all).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ tenantId: a, status: 'removed', removedFrom: 'DEFENDER_TENANTS' }),
      expect.objectContaining({ tenantId: b, status: 'removed', removedFrom: 'DEFENDER_TENANTS' }),
    ]),
  );
  const sync = await run(['sync', '--json'], [c]);
  expect(sync.code).toBe(0);
  expect(JSON.parse(sync.stdout)).toMatchObject({ tenants: 1, perTenant: [{ tenantId: c }] });

  const text = await run(['tenants', 'list', '--all'], [c]);
  expect(text.stdout).toContain(
    `${a}  removed  legacy (set-api) (was in DEFENDER_TENANTS, which no longer lists it: not synced; \`tenants add ${a}\` keeps it as a registry tenant)`,
  );
});

test('a tenant onboarded in the registry stays when the setting drops it; tenants add adopts a dropped one', async () => {
  expect((await run(['tenants', 'add', c, '--name', 'Charlie'], [c])).code).toBe(0);
  expect(await list([c])).toEqual([expect.objectContaining({ tenantId: c, source: 'both' })]);
  // The setting no longer lists c: it came from the registry too, so it stays.
  const listed = await list([b]);
  expect(listed).toEqual(
    expect.arrayContaining([expect.objectContaining({ tenantId: c, source: 'registry', status: 'enabled' })]),
  );
  const text = await run(['tenants', 'list'], [b]);
  expect(text.stdout).toMatch(new RegExp(`${c}  enabled  graph Charlie \\(onboarded \\S+ by cli\\)`));
  expect(text.stdout).toMatch(new RegExp(`${b}  enabled  graph \\(DEFENDER_TENANTS\\)`));

  // a, dropped from the setting, is taken into the registry by `tenants add`.
  expect((await run(['tenants', 'add', a], [b])).code).toBe(0);
  expect(await list([b])).toEqual(
    expect.arrayContaining([expect.objectContaining({ tenantId: a, source: 'registry', status: 'enabled' })]),
  );
});
