/**
 * Partner context with many tenants: three customer tenants (two onboarded in the registry, one from
 * DEFENDER_TENANTS) synced with a token per tenant from one MSAL client; a second run asks Entra ID for no
 * new token; a tenant whose consent was revoked fails with a readable last error while the others sync;
 * a disabled tenant is skipped and keeps its history. Plus `defender-relay tenants` on the same registry.
 */
import { PassThrough } from 'node:stream';
import { runTenantsCommand } from '../../src/cli/tenants-command';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { partnerWorld, tokenRequestsByTenant, type PartnerWorld } from '../helpers/partner';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

describe('three customer tenants', () => {
  let world: PartnerWorld;
  let a: string, b: string, c: string;
  beforeAll(async () => {
    // c comes from the setting; a and b are onboarded in the registry.
    const probe = partnerWorld(sim);
    c = probe.addCustomer({ consent: false });
    world = partnerWorld(sim, { env: { DEFENDER_TENANTS: c } });
    sim.grantPermissions(world.app.clientId, c, 'graph', ['SecurityIncident.Read.All']);
    a = world.addCustomer({ consent: true });
    b = world.addCustomer({ consent: true });
    await world.relay.tenants.add(a, { onboardedBy: 'cli', displayName: 'Alpha Corp' });
    await world.relay.tenants.add(b, { onboardedBy: 'admin-consent' });
    for (const t of [a, b, c]) sim.incidents.seed(t, 2);
  });

  test('every enabled tenant syncs with its own token; a second run asks for no new token', async () => {
    expect((await world.relay.tenants.enabledTenantIds()).sort()).toEqual([a, b, c].sort());
    sim.counters.reset();
    const first = await world.relay.syncAll();
    expect(first.errors).toEqual([]);
    expect(first.results.map((r) => r.tenantId).sort()).toEqual([a, b, c].sort());
    const events = await world.drainQueue();
    expect(events).toHaveLength(6);
    for (const t of [a, b, c]) {
      expect(events.filter((e) => e.data.header.tenantId === t)).toHaveLength(2);
    }
    // One token per tenant, each from that tenant's authority, for Graph.
    expect(tokenRequestsByTenant(sim, world.app.clientId)).toEqual({ [a]: 1, [b]: 1, [c]: 1 });
    const requests = sim.counters.snapshot().tokenRequests.filter((t) => t.clientId === world.app.clientId);
    expect(requests).toHaveLength(3);
    expect(requests).toEqual(
      expect.arrayContaining(
        [a, b, c].map((tenantId) =>
          expect.objectContaining({ tenantId, resource: sim.resources.graph, count: 1 }),
        ),
      ),
    );

    sim.counters.reset();
    const second = await world.relay.syncAll();
    expect(second.errors).toEqual([]);
    // MSAL's cache served every tenant: Entra ID was not asked again.
    expect(tokenRequestsByTenant(sim, world.app.clientId)).toEqual({});
    expect(sim.counters.snapshot().byKind['graph.list']).toBe(3);
  });

  test('a revoked tenant fails with a readable last error; the others are unaffected', async () => {
    sim.revokeConsent(world.app.clientId, b);
    for (const t of [a, b, c]) sim.incidents.create(t, { displayName: `after revoke ${t}` });
    // A new instance (cold start): its MSAL cache is empty, so it must ask Entra ID for b again.
    const relay = world.freshRelay();
    const summary = await relay.syncAll();
    expect(summary.errors.map((e) => e.tenantId)).toEqual([b]);
    expect(summary.errors[0]!.error).toMatch(/AADSTS700016/);
    expect(summary.errors[0]!.error).toMatch(/consent link/);
    expect(summary.results.find((r) => r.tenantId === b)?.errorCode).toBe('consent_missing');
    const titles = (await world.drainQueue()).map((e) => e.data.header.title).sort();
    expect(titles).toEqual([`after revoke ${a}`, `after revoke ${c}`].sort());

    const entry = await relay.tenants.get(b);
    expect(entry).toMatchObject({
      status: 'enabled',
      lastOutcome: 'failed',
      lastErrorCode: 'consent_missing',
    });
    expect(entry?.lastError).toMatch(/not known in tenant .* no admin of that tenant has consented/);
    expect((await relay.tenants.get(a))?.lastError).toBeUndefined();
    expect((await relay.tenants.get(a))?.lastOutcome).toBe('complete');

    // tenants list --json shows it.
    const out = capture();
    expect(await runTenantsCommand(relay, ['list'], { json: true, out: out.stream })).toBe(0);
    const listed = JSON.parse(out.text()) as { tenants: Record<string, unknown>[] };
    expect(listed.tenants.find((t) => t.tenantId === b)).toMatchObject({
      lastErrorCode: 'consent_missing',
      lastError: expect.stringMatching(/AADSTS700016/),
    });
    expect(listed.tenants.find((t) => t.tenantId === c)).toMatchObject({
      source: 'setting',
      status: 'enabled',
    });

    // Consent granted again: the next run syncs b and clears its error.
    sim.grantPermissions(world.app.clientId, b, 'graph', ['SecurityIncident.Read.All']);
    const again = await world.freshRelay().syncAll();
    expect(again.errors).toEqual([]);
    expect((await relay.tenants.get(b))?.lastError).toBeUndefined();
    expect((await world.drainQueue()).map((e) => e.data.header.tenantId)).toEqual([b]);
  });

  test('disabling or removing a tenant stops its sync and keeps its history', async () => {
    const checkpointBefore = (await world.relay.state.getTenant(a))?.cursor;
    expect(checkpointBefore).toBeDefined();
    const out = capture();
    expect(await runTenantsCommand(world.relay, ['disable', a], { json: false, out: out.stream })).toBe(0);
    expect(out.text()).toMatch(new RegExp(`${a}\\s+disabled`));
    // A setting tenant can be removed too (its row wins over DEFENDER_TENANTS).
    expect(await runTenantsCommand(world.relay, ['remove', c], { json: false, out: capture().stream })).toBe(
      0,
    );
    expect(await world.relay.tenants.enabledTenantIds()).toEqual([b]);

    sim.incidents.create(a, { displayName: 'while disabled' });
    sim.counters.reset();
    const summary = await world.relay.syncAll();
    expect(summary.results.map((r) => r.tenantId)).toEqual([b]);
    expect(tokenRequestsByTenant(sim, world.app.clientId)[a]).toBeUndefined();
    expect((await world.relay.state.getTenant(a))?.cursor).toBe(checkpointBefore);

    const list = capture();
    await runTenantsCommand(world.relay, ['list'], { json: true, out: list.stream });
    const ids = (JSON.parse(list.text()) as { tenants: { tenantId: string }[] }).tenants.map(
      (t) => t.tenantId,
    );
    expect(ids).toContain(a); // disabled: listed
    expect(ids).not.toContain(c); // removed: hidden
    const all = capture();
    await runTenantsCommand(world.relay, ['list'], { json: true, all: true, out: all.stream });
    expect(JSON.parse(all.text()).tenants.find((t: { tenantId: string }) => t.tenantId === c)).toMatchObject({
      status: 'removed',
    });

    // Enabled again: it resumes from its checkpoint and delivers what changed meanwhile.
    await runTenantsCommand(world.relay, ['enable', a], { json: false, out: capture().stream });
    await world.drainQueue();
    const resumed = await world.relay.syncAll({ tenants: [a] });
    expect(resumed.errors).toEqual([]);
    expect((await world.drainQueue()).map((e) => e.data.header.title)).toEqual(['while disabled']);
  });

  test('tenants add / bad input', async () => {
    const d = world.addCustomer({ consent: true });
    const out = capture();
    expect(
      await runTenantsCommand(world.relay, ['add', d], { json: true, name: 'Delta Ltd', out: out.stream }),
    ).toBe(0);
    expect(JSON.parse(out.text()).tenant).toMatchObject({
      tenantId: d,
      displayName: 'Delta Ltd',
      status: 'enabled',
      onboardedBy: 'cli',
    });
    const err = capture();
    expect(
      await runTenantsCommand(world.relay, ['add', 'not-a-guid'], { json: false, err: err.stream }),
    ).toBe(2);
    expect(err.text()).toMatch(/not a tenant id/);
    const unknown = capture();
    expect(
      await runTenantsCommand(world.relay, ['disable', '00000000-0000-0000-0000-0000000000aa'], {
        json: false,
        err: unknown.stream,
      }),
    ).toBe(1);
    expect(unknown.text()).toMatch(/not in the registry/);
    expect(await runTenantsCommand(world.relay, ['frobnicate'], { json: false, err: capture().stream })).toBe(
      2,
    );
  });
});
