/**
 * MSSP onboarding from the command line: `tenants add` checks the id and probes a token (an unknown
 * tenant is refused in words, AADSTS90002, not `endpoints_resolution_error`); `tenants import <csv>`
 * checks every row first (bad rows named by line, nothing imported), then adds each tenant and prints
 * the consent links of those that have not consented yet. Child processes against the simulator
 * (which answers an unknown tenant as Entra ID does) and Azurite.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { partnerWorld, type PartnerWorld } from '../helpers/partner';
import { runCli } from '../helpers/cli';

let sim: Simulator;
let world: PartnerWorld;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator();
  world = partnerWorld(sim);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-cli-tenants-'));
});
afterAll(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ ...world.env, ...identityEnv(sim) });
const listed = async () =>
  (
    JSON.parse((await runCli(['tenants', 'list', '--json'], env())).stdout) as {
      tenants: { tenantId: string }[];
    }
  ).tenants.map((t) => t.tenantId);

test('tenants add of a consented tenant says its token was issued', async () => {
  const t = world.addCustomer({ consent: true });
  const { code, stdout } = await runCli(['tenants', 'add', t, '--name', 'Contoso'], env());
  expect(code).toBe(0);
  expect(stdout).toContain(`${t} (Contoso): added; a token for it was issued, so its next sync runs.`);
});

test('tenants add of a tenant that has not consented adds it and prints its consent link', async () => {
  const t = world.addCustomer();
  const { code, stdout } = await runCli(['tenants', 'add', t], env());
  expect(code).toBe(0);
  expect(stdout).toContain(
    `${t}: added, but no token can be had yet: The app ${world.app.clientId} is not known in tenant ${t} (AADSTS700016)`,
  );
  expect(stdout).toMatch(
    new RegExp(
      `send this admin-consent link .*\\n\\s+https://\\S+/${t}/adminconsent\\?client_id=${world.app.clientId}`,
    ),
  );
  expect(await listed()).toContain(t);
});

test('tenants add of a tenant Entra ID does not know is refused in words, and not added', async () => {
  const t = crypto.randomUUID();
  const { code, stdout, stderr } = await runCli(['tenants', 'add', t], env());
  expect(code).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toContain(
    `${t}: not added: Tenant ${t} does not exist in this cloud (AADSTS90002). Check the tenant id and DEFENDER_CLOUD.`,
  );
  expect(stderr).not.toContain('endpoints_resolution_error');
  expect(await listed()).not.toContain(t);
});

test('tenants add of a non-GUID is a usage error', async () => {
  const { code, stderr } = await runCli(['tenants', 'add', 'contoso'], env());
  expect(code).toBe(2);
  expect(stderr).toContain('"contoso" is not a tenant id (a GUID).');
});

test('tenants import: a bad row is named by its line and nothing is imported', async () => {
  const good = world.addCustomer({ consent: true });
  const file = path.join(dir, 'bad.csv');
  fs.writeFileSync(file, `tenant id,display name\n${good},Good Ltd\n\nnot-a-guid,Typo Inc\n${good},Again\n`);
  const { code, stdout, stderr } = await runCli(['tenants', 'import', file], env());
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toContain('line 4: the first field is not a tenant id (a GUID)');
  expect(stderr).toContain(`line 5: tenant ${good} is already on line 2`);
  expect(stderr).toContain('Nothing was imported');
  expect(await listed()).not.toContain(good);
});

test('tenants import: each row reported, consent links printed, an unknown tenant refused by line', async () => {
  const ready = world.addCustomer({ consent: true });
  const waiting = world.addCustomer();
  const unknown = crypto.randomUUID();
  const file = path.join(dir, 'customers.csv');
  // No header; a quoted name with a comma.
  fs.writeFileSync(file, `${ready},"Fabrikam, Inc."\n${waiting},Northwind\n${unknown}\n`);
  const { code, stdout } = await runCli(['tenants', 'import', file], env());
  expect(code).toBe(1);
  expect(stdout).toContain(`line 1: ${ready} (Fabrikam, Inc.): added; a token for it was issued`);
  expect(stdout).toContain(`line 2: ${waiting} (Northwind): added, but no token can be had yet`);
  expect(stdout).toMatch(new RegExp(`https://\\S+/${waiting}/adminconsent\\?client_id=`));
  expect(stdout).toContain(
    `line 3: ${unknown}: not added: Tenant ${unknown} does not exist in this cloud (AADSTS90002)`,
  );
  expect(stdout).toContain('2 tenant(s) added (1 ready to sync, 1 waiting for consent), 1 refused.');
  const tenants = await listed();
  expect(tenants).toEqual(expect.arrayContaining([ready, waiting]));
  expect(tenants).not.toContain(unknown);
});

test('tenants import --json, and a file that is not there', async () => {
  const t = world.addCustomer({ consent: true });
  const file = path.join(dir, 'one.csv');
  fs.writeFileSync(file, `TenantId;Name\r\n${t};Litware\r\n`);
  const { code, stdout } = await runCli(['tenants', 'import', file, '--json'], env());
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({
    imported: 1,
    refused: 0,
    ready: 1,
    tenants: [{ line: 2, tenantId: t, displayName: 'Litware', outcome: 'added', token: true }],
  });
  const missing = await runCli(['tenants', 'import', path.join(dir, 'nope.csv')], env());
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain(
    `tenants import: the file ${path.join(dir, 'nope.csv')} cannot be read (ENOENT)`,
  );
});

test("the simulator answers an unknown tenant's OpenID metadata as Entra ID does (400 invalid_tenant, AADSTS90002)", async () => {
  const t = crypto.randomUUID();
  const res = await fetch(`${sim.urls.authorityHost}/${t}/v2.0/.well-known/openid-configuration`);
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: string; error_description: string; error_codes: number[] };
  expect(body.error).toBe('invalid_tenant');
  expect(body.error_codes).toEqual([90002]);
  expect(body.error_description).toMatch(new RegExp(`^AADSTS90002: Tenant '${t}' not found\\.`));
});
