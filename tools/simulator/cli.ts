/**
 * `npm run simulator`: starts the simulator with one seeded customer tenant and a relay app registration,
 * prints the URLs and the settings a relay (or any SDK client) needs, and runs until Ctrl-C.
 *
 * Options: --incidents N (default 25), --latency MS, --cloud public|gcc|gcchigh|dod, --seed N,
 * --updates SECONDS (make a random incident update every SECONDS; default 0 = off), --json.
 */
import { startSimulator, type SimulatorCloud } from './index';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const cloud = (arg('cloud') ?? 'public') as SimulatorCloud;
  if (!['public', 'gcc', 'gcchigh', 'dod'].includes(cloud))
    throw new Error(`--cloud must be public, gcc, gcchigh or dod`);
  const seed = arg('seed');
  const sim = await startSimulator({
    cloud,
    latencyMs: Number(arg('latency') ?? 0),
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
  });
  const tenantId = sim.addTenant({
    displayName: 'Contoso (simulated customer)',
    domain: 'contoso.onmicrosoft.com',
  });
  const app = sim.registerApp({
    homeTenantId: sim.homeTenantId,
    multiTenant: true,
    displayName: 'Defender Relay',
  });
  for (const t of [tenantId, sim.homeTenantId]) {
    sim.grantPermissions(app.clientId, t, 'graph', [
      'SecurityIncident.ReadWrite.All',
      'ThreatHunting.Read.All',
    ]);
    sim.grantPermissions(app.clientId, t, 'legacy', ['Incident.ReadWrite.All', 'AdvancedHunting.Read.All']);
  }
  const secretVersion = sim.keyVault.setSecret('relay-client-secret', app.secret ?? '');
  sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
  sim.incidents.seed(tenantId, Number(arg('incidents') ?? 25));

  const settings = {
    DEFENDER_CLOUD: cloud,
    AUTHORITY_HOST: sim.urls.authorityHost,
    MSAL_KNOWN_AUTHORITIES: sim.urls.knownAuthorities.join(','),
    GRAPH_BASE_URL: sim.urls.graphBaseUrl,
    LEGACY_BASE_URL: sim.urls.legacyBaseUrl,
    KEY_VAULT_URL: sim.urls.keyVaultUrl(),
    IDENTITY_ENDPOINT: sim.urls.identityEndpoint,
    IDENTITY_HEADER: sim.urls.identityHeader,
    CLIENT_ID: app.clientId,
    HOME_TENANT_ID: sim.homeTenantId,
    CUSTOMER_TENANT_ID: tenantId,
  };
  if (process.argv.includes('--json')) {
    console.log(
      JSON.stringify({ settings, clientSecret: app.secret, secretName: 'relay-client-secret' }, null, 2),
    );
  } else {
    console.log('Defender Relay simulator is running (Ctrl-C to stop).\n');
    console.log(
      `  Entra authority host   ${sim.urls.authorityHost}   (tenant authority = <host>/<tenantId>)`,
    );
    console.log(`  Graph                  ${sim.urls.graphBaseUrl}/v1.0/security/incidents`);
    console.log(`  Legacy Defender API    ${sim.urls.legacyBaseUrl}/api/incidents`);
    console.log(
      `  Key Vault              ${sim.urls.keyVaultUrl()}   (secret relay-client-secret, version ${secretVersion})`,
    );
    console.log(`  Managed identity       ${sim.urls.identityEndpoint}`);
    console.log(`  Home tenant            ${sim.homeTenantId}`);
    console.log(`  Customer tenant        ${tenantId}   (${sim.incidents.ids(tenantId).length} incidents)`);
    console.log(`  App (multi-tenant)     ${app.clientId}   secret: ${app.secret ?? '(none)'}`);
    console.log(
      '\nEnvironment for a process talking to it (run it under `node tools/with-simulator-ca.mjs`,',
    );
    console.log('which trusts the simulator CA and resolves *.vault.localhost to 127.0.0.1):\n');
    for (const [k, v] of Object.entries(settings)) console.log(`  export ${k}=${JSON.stringify(v)}`);
    console.log(
      '\nMSAL Node needs auth.knownAuthorities = MSAL_KNOWN_AUTHORITIES (no instance discovery offline).',
    );
  }

  const every = Number(arg('updates') ?? 0);
  const timer =
    every > 0
      ? setInterval(() => {
          const ids = sim.incidents.ids(tenantId);
          const id = ids[Math.floor(Math.random() * ids.length)];
          if (id === undefined || Math.random() < 0.3) sim.incidents.create(tenantId);
          else sim.incidents.update(tenantId, id, { status: Math.random() < 0.5 ? 'inProgress' : 'active' });
        }, every * 1000)
      : undefined;

  const stop = (): void => {
    if (timer) clearInterval(timer);
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
