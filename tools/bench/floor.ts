/**
 * The floor: the least a program can do to move the same incidents to the same queue with the same SDKs
 * and the same concurrency as the relay. It reads the client secret from Key Vault with the managed
 * identity, gets one MSAL token per tenant, and reads each tenant's incidents the cheapest correct way the
 * measured Graph API allows: one window of last-update times up to the server's clock, paged by key on
 * the creation time (`$orderby=createdDateTime asc`, the one ordering Graph honours; the boundary incident
 * read again and skipped), at most 120 calls a minute per tenant as the relay (429s waited out). It builds
 * the same CloudEvents envelope (with a smaller header) and sends each as one base64 queue message, 16 at
 * a time, page after page; tenants `FLOOR_TENANT_CONCURRENCY` at a time, as the relay. No state: no
 * delivered record, no checkpoint, no lease, no claim check. Whatever the relay spends beyond this is the
 * relay's own cost.
 *
 * Environment: the relay's settings (simulatorAppSettings), plus FLOOR_TENANTS (comma-separated),
 * FLOOR_QUEUE and FLOOR_TENANT_CONCURRENCY.
 */
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { QueueClient } from '@azure/storage-queue';
import { cpuMs, memory, report } from './proc';

const CONCURRENCY = 16;
const PAGE = 50;
const CALLS_PER_MINUTE = 120;

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One tenant's calls, at most CALLS_PER_MINUTE in any minute. */
class Pace {
  private readonly calls: number[] = [];
  async next(): Promise<void> {
    for (;;) {
      const now = Date.now();
      while (this.calls.length && (this.calls[0] as number) <= now - 60_000) this.calls.shift();
      if (this.calls.length < CALLS_PER_MINUTE) break;
      await sleep((this.calls[0] as number) + 60_001 - now);
    }
    this.calls.push(Date.now());
  }
}

interface Totals {
  calls: number;
  sent: number;
  readMs: number;
  sendMs: number;
}

async function tenant(
  id: string,
  msal: ConfidentialClientApplication,
  q: QueueClient,
  t: Totals,
): Promise<void> {
  const authorityHost = env('DEFENDER_AUTHORITY_HOST');
  const token = await msal.acquireTokenByClientCredential({
    scopes: ['https://graph.microsoft.com/.default'],
    authority: `${authorityHost}/${id}`,
  });
  const base = env('DEFENDER_GRAPH_BASE_URL');
  const from = process.env.FLOOR_SINCE ?? new Date(Date.now() - 24 * 3600_000).toISOString();
  const pace = new Pace();
  let until: string | undefined;
  let created: string | undefined;
  let boundary = new Set<string>();
  for (let guard = 0; guard < 100_000; guard++) {
    const filter = [`lastUpdateDateTime ge ${from}`];
    if (until) filter.push(`lastUpdateDateTime lt ${until}`);
    if (created) filter.push(`createdDateTime ge ${created}`);
    const query = new URLSearchParams({
      $filter: filter.join(' and '),
      $orderby: 'createdDateTime asc',
      $top: String(PAGE),
      $expand: 'alerts',
    });
    let mark = performance.now();
    await pace.next();
    const res = await fetch(`${base}/v1.0/security/incidents?${query.toString().replace(/\+/g, '%20')}`, {
      headers: {
        authorization: `Bearer ${token?.accessToken}`,
        accept: 'application/json',
        prefer: 'include-unknown-enum-members',
      },
    });
    t.calls++;
    if (res.status === 429) {
      await sleep(Number(res.headers.get('retry-after') ?? '1') * 1000);
      continue;
    }
    if (!res.ok) throw new Error(`Graph answered ${res.status}`);
    until ??= new Date(Date.parse(res.headers.get('date') ?? new Date().toUTCString()) + 1000).toISOString();
    const body = (await res.json()) as { value: Record<string, unknown>[] };
    t.readMs += performance.now() - mark;
    const messages: string[] = [];
    for (const item of body.value) {
      const time = item.lastUpdateDateTime as string;
      const key = `${id}/${String(item.id)}/${time}`;
      if (boundary.has(key) || Date.parse(time) >= Date.parse(until)) continue;
      messages.push(envelope(id, key, item));
    }
    mark = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, messages.length) }, async () => {
        while (next < messages.length) await q.sendMessage(messages[next++] as string);
      }),
    );
    t.sent += messages.length;
    t.sendMs += performance.now() - mark;
    if (body.value.length < PAGE) return;
    const last = body.value[body.value.length - 1] as Record<string, unknown>;
    created = last.createdDateTime as string;
    boundary = new Set(
      body.value
        .filter((i) => i.createdDateTime === created)
        .map((i) => `${id}/${String(i.id)}/${i.lastUpdateDateTime as string}`),
    );
  }
}

function envelope(tenantId: string, id: string, item: Record<string, unknown>): string {
  const time = item.lastUpdateDateTime as string;
  return Buffer.from(
    JSON.stringify({
      specversion: '1.0',
      id,
      type: 'com.microsoft.defender.incident.updated',
      source: `/tenants/${tenantId}/defender/graph`,
      subject: String(item.id),
      time,
      datacontenttype: 'application/json',
      data: {
        header: {
          tenantId,
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
  ).toString('base64');
}

async function main(): Promise<void> {
  const tenants = env('FLOOR_TENANTS').split(',');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const secret = await new SecretClient(env('KEY_VAULT_URL'), new ManagedIdentityCredential()).getSecret(
    env('DEFENDER_CLIENT_SECRET_NAME'),
  );
  const authorityHost = env('DEFENDER_AUTHORITY_HOST');
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: env('DEFENDER_CLIENT_ID'),
      authority: `${authorityHost}/${tenants[0]}`,
      knownAuthorities: [new URL(authorityHost).host],
      clientSecret: secret.value ?? '',
    },
  });
  const q = new QueueClient(env('AzureWebJobsStorage'), env('FLOOR_QUEUE'));
  await q.createIfNotExists();
  const totals: Totals = { calls: 0, sent: 0, readMs: 0, sendMs: 0 };
  let next = 0;
  await Promise.all(
    Array.from(
      { length: Math.min(Number(process.env.FLOOR_TENANT_CONCURRENCY ?? '8'), tenants.length) },
      async () => {
        while (next < tenants.length) await tenant(tenants[next++] as string, msal, q, totals);
      },
    ),
  );
  report({
    mode: 'floor',
    wallMs: Math.round(performance.now() - t0),
    cpuMs: cpuMs(cpu0),
    processCpuMs: cpuMs(),
    memory: memory(),
    apiCalls: totals.calls,
    delivered: totals.sent,
    phases: { readMs: Math.round(totals.readMs), sendMs: Math.round(totals.sendMs) },
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
