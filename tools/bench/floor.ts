/**
 * The floor: the least a program can do to move the same incidents to the same queue with the same SDKs
 * and the same concurrency as the relay. It reads the client secret from Key Vault with the managed
 * identity, gets one token with MSAL, reads the same Graph pages the relay reads (key-set: each page asked
 * for from the previous page's latest time, the re-read boundary incident skipped), builds the same
 * CloudEvents envelope (with a smaller header) and sends each as one base64 queue message, 16 at a time,
 * page after page. No state: no delivered record, no checkpoint, no lease, no retry, no claim check.
 * Whatever the relay spends beyond this is the relay's own cost.
 *
 * Environment: the relay's settings (simulatorAppSettings), plus FLOOR_TENANT and FLOOR_QUEUE.
 */
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { QueueClient } from '@azure/storage-queue';
import { cpuMs, memory, report } from './proc';

const CONCURRENCY = 16;
const PAGE = 50;

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** 100 ns ticks of an ISO time with up to seven fractional digits (a Date keeps milliseconds only). */
function ticks(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z$/.exec(iso);
  if (!m) throw new Error(`bad time ${iso}`);
  return BigInt(Date.parse(`${m[1]}Z`)) * 10_000n + BigInt((m[2] ?? '').padEnd(7, '0'));
}

async function main(): Promise<void> {
  const tenant = env('FLOOR_TENANT');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const secret = await new SecretClient(env('KEY_VAULT_URL'), new ManagedIdentityCredential()).getSecret(
    env('DEFENDER_CLIENT_SECRET_NAME'),
  );
  const authorityHost = env('DEFENDER_AUTHORITY_HOST');
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: env('DEFENDER_CLIENT_ID'),
      authority: `${authorityHost}/${tenant}`,
      knownAuthorities: [new URL(authorityHost).host],
      clientSecret: secret.value ?? '',
    },
  });
  const token = await msal.acquireTokenByClientCredential({
    scopes: ['https://graph.microsoft.com/.default'],
  });
  const q = new QueueClient(env('AzureWebJobsStorage'), env('FLOOR_QUEUE'));
  await q.createIfNotExists();
  const base = env('DEFENDER_GRAPH_BASE_URL');
  let from = process.env.FLOOR_SINCE ?? new Date(Date.now() - 24 * 3600_000).toISOString();
  let link: string | undefined;
  let boundary = new Set<string>();
  let calls = 0;
  const phases = { readMs: 0, sendMs: 0 };
  let sent = 0;
  for (let guard = 0; guard < 100_000; guard++) {
    const query = new URLSearchParams({
      $filter: `lastUpdateDateTime ge ${from}`,
      $orderby: 'lastUpdateDateTime asc',
      $top: String(PAGE),
      $expand: 'alerts',
    });
    let mark = performance.now();
    const url = link ?? `${base}/v1.0/security/incidents?${query.toString().replace(/\+/g, '%20')}`;
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token?.accessToken}`, accept: 'application/json' },
    });
    calls++;
    if (!res.ok) throw new Error(`Graph answered ${res.status}`);
    const body = (await res.json()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string };
    phases.readMs += performance.now() - mark;
    let latest = ticks(from);
    let latestIso = from;
    const messages: string[] = [];
    for (const item of body.value) {
      const time = item.lastUpdateDateTime as string;
      const id = `${tenant}/${String(item.id)}/${time}`;
      const t = ticks(time);
      if (t > latest) {
        latest = t;
        latestIso = time;
      }
      if (boundary.has(id)) continue;
      messages.push(
        Buffer.from(
          JSON.stringify({
            specversion: '1.0',
            id,
            type: 'com.microsoft.defender.incident.updated',
            source: `/tenants/${tenant}/defender/graph`,
            subject: String(item.id),
            time,
            datacontenttype: 'application/json',
            data: {
              header: {
                tenantId: tenant,
                incidentId: String(item.id),
                title: item.displayName,
                severity: item.severity,
                status: item.status,
                lastUpdate: time,
                url: item.incidentWebUrl,
              },
              incident: item,
            },
          }),
          'utf8',
        ).toString('base64'),
      );
    }
    mark = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, messages.length) }, async () => {
        while (next < messages.length) await q.sendMessage(messages[next++] as string);
      }),
    );
    sent += messages.length;
    phases.sendMs += performance.now() - mark;
    link = body['@odata.nextLink'];
    if (!link) break;
    // A page all of one time (the one asked from) would come back again: walk that block by link.
    if (latest === ticks(from)) continue;
    link = undefined;
    boundary = new Set(
      body.value
        .filter((i) => ticks(i.lastUpdateDateTime as string) === latest)
        .map((i) => `${tenant}/${String(i.id)}/${i.lastUpdateDateTime as string}`),
    );
    from = latestIso;
  }
  report({
    mode: 'floor',
    wallMs: Math.round(performance.now() - t0),
    cpuMs: cpuMs(cpu0),
    processCpuMs: cpuMs(),
    memory: memory(),
    apiCalls: calls,
    delivered: sent,
    phases: { readMs: Math.round(phases.readMs), sendMs: Math.round(phases.sendMs) },
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
