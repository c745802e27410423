/**
 * Deep health: every dependency the relay needs, checked now, each answer in words a person can act on.
 * Used by `GET /api/health/deep` (function key) and `defender-relay check`.
 *
 * - Key Vault: the app credential's secret (secret / certificate), the inbound senders' secrets (the
 *   default one only when it exists: inbound webhooks that are not set up are not checked), and each
 *   webhook destination's URL and signing secrets.
 * - Tokens: an application-context token for each tenant (home and customers: partner context), and for
 *   the user context the signing keys of each allowed tenant (a user token cannot be made without a user).
 * - Destinations: the incidents queue and claim-check container, the webhook outbox queue when webhooks
 *   are configured, the inbound retry queue, and the inbound table (message ids and the two-way version
 *   ledger the sync writes).
 * - Per-tenant lag: now minus the time up to which the tenant has been read completely (src/sync/lag.ts),
 *   and the last error.
 * - The legacy API's retirement (2027-02-01): each tenant still reading it is a warning with the days
 *   left and the commands that move it to Graph.
 *
 * A check marked `required: false` (an optional feature) makes the answer `degraded`, not `unhealthy`.
 */
import type { Relay } from '../relay';
import { DEFAULT_SENDER } from '../config/inbound-senders';
import type { ApiFlavour } from '../defender/incident';
import { legacyWarning } from '../defender/legacy-retirement';
import { lagVerdict } from './lag-check';
import { storageError } from '../storage/storage-errors';
import { checkWebhookDestination } from './webhook-checks';
import { completenessHealth, completenessRow, type CompletenessRow } from '../sweep/completeness-status';

export interface HealthCheck {
  name: string;
  ok: boolean;
  required: boolean;
  /** What was checked, or what is wrong and how to fix it. */
  detail: string;
  /** Per-tenant lag, seconds. */
  lagSeconds?: number;
  /** The completeness sweep's figures (checks named `completeness:<tenant>`). */
  completeness?: CompletenessRow;
}

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  checkedAt: string;
  checks: HealthCheck[];
}

export interface HealthOptions {
  /** A tenant more than this far behind (src/sync/lag.ts) is reported (default 30 minutes). */
  maxLagSeconds?: number;
  /** Per-check timeout (default 20 s). */
  timeoutMs?: number;
  now?: () => number;
}

type HealthRelay = Pick<
  Relay,
  'config' | 'secrets' | 'tokens' | 'storage' | 'state' | 'tenants' | 'user' | 'inbound' | 'sweepState'
>;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function withTimeout<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function storageFailure(error: unknown, what: string, setting: string): Error {
  return new Error(storageError(error, what, setting), { cause: error });
}

type CheckResult = string | (Omit<HealthCheck, 'name' | 'required'> & { required?: boolean });

/** The checks of one report, each started at once and bounded by the per-check timeout. */
class CheckList {
  private readonly running: Promise<HealthCheck>[] = [];

  constructor(private readonly timeoutMs: number) {}

  add(name: string, required: boolean, fn: () => Promise<CheckResult>): void {
    this.running.push(
      withTimeout(this.timeoutMs, name, fn).then(
        (r): HealthCheck =>
          typeof r === 'string' ? { name, required, ok: true, detail: r } : { name, required, ...r },
        (error: unknown): HealthCheck => ({ name, required, ok: false, detail: message(error) }),
      ),
    );
  }

  fail(name: string, error: Error): void {
    this.add(name, true, () => Promise.reject(error));
  }

  results(): Promise<HealthCheck[]> {
    return Promise.all(this.running);
  }
}

interface CheckContext {
  relay: HealthRelay;
  checks: CheckList;
  now: () => number;
}

export async function runHealthChecks(
  relay: HealthRelay,
  options: HealthOptions = {},
): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const ctx: CheckContext = { relay, checks: new CheckList(timeoutMs), now: options.now ?? Date.now };
  secretChecks(ctx);
  const apis = await tenantApis(ctx, timeoutMs);
  tokenChecks(ctx, apis);
  destinationChecks(ctx);
  tenantStateChecks(ctx, [...apis.keys()], options.maxLagSeconds ?? 1800);
  return verdict(await ctx.checks.results(), ctx.now());
}

/** Key Vault: the app credential, the inbound senders' secrets; and the private-address switch. */
function secretChecks({ relay, checks }: CheckContext): void {
  const { config } = relay;
  if (config.credential.kind !== 'federated') {
    const secretName = config.credential.secretName;
    checks.add(`keyvault:${secretName}`, true, async () => {
      if (!relay.secrets)
        throw new Error('KEY_VAULT_URL is not set: set it to the vault that holds the app credential.');
      await relay.secrets.get(secretName);
      return `The app's ${config.credential.kind} can be read from Key Vault.`;
    });
  }
  // Inbound senders: a secret that is there must be a valid Standard Webhooks secret (fail closed); a
  // missing one only means inbound webhooks are not set up, unless INBOUND_SENDERS names the sender.
  for (const sender of config.inbound.senders) {
    checks.add(`inbound:sender:${sender.name}`, true, async () => {
      if (!relay.secrets) throw new Error('KEY_VAULT_URL is not set: inbound webhooks cannot be verified.');
      const result = await relay.inbound.checkSecret(sender);
      if (result.ok) return result.detail;
      // Not configured is not a fault: without INBOUND_SENDERS and without the default secret, the
      // inbound route refuses every message, which is what a relay that takes no updates back wants.
      if (result.missing && sender.name === DEFAULT_SENDER)
        return `Inbound webhooks are not set up (no INBOUND_SENDERS and no Key Vault secret '${sender.secret}'): nothing to check. docs/inbound-webhooks.md sets them up.`;
      throw new Error(result.detail);
    });
  }
  if (config.webhooks.allowPrivateAddresses) {
    checks.add('webhooks:private-addresses', false, () =>
      Promise.resolve({
        ok: false,
        detail:
          'WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on: webhooks may reach private, loopback and link-local addresses. Local development only: turn it off in Azure.',
      }),
    );
  }
}

/** The tenants synced and the API each reads: the registry, or the settings when it cannot be read. */
async function tenantApis(
  { relay, checks }: CheckContext,
  timeoutMs: number,
): Promise<Map<string, ApiFlavour>> {
  const { config } = relay;
  const apis = new Map<string, ApiFlavour>(
    config.tenants.map((t) => [t, config.tenantApis?.[t] ?? config.api]),
  );
  try {
    const entries = await withTimeout(timeoutMs, 'the tenant registry', () => relay.tenants.list());
    apis.clear();
    for (const t of entries) if (t.status === 'enabled') apis.set(t.tenantId, t.api);
  } catch (error) {
    checks.fail('storage:tenants', storageFailure(error, 'The tenants table', 'TENANTS_TABLE_NAME'));
  }
  return apis;
}

/** Tokens per tenant for the API its sync reads, the legacy API's retirement, user-context keys. */
function tokenChecks({ relay, checks, now }: CheckContext, apis: Map<string, ApiFlavour>): void {
  for (const [tenantId, api] of apis) {
    checks.add(`token:application:${tenantId}`, true, async () => {
      await relay.tokens.getToken(tenantId, api);
      return `A ${api === 'graph' ? 'Microsoft Graph' : 'Defender XDR API'} token for tenant ${tenantId} was issued.`;
    });
  }
  for (const [tenantId, api] of apis) {
    if (api !== 'legacy') continue;
    checks.add(`api:legacy:${tenantId}`, false, async () => ({
      ok: false,
      detail: legacyWarning(tenantId, now()),
    }));
  }
  // User context: signing keys of each allowed tenant (the OBO exchange uses the app credential above).
  for (const tenantId of relay.config.user.allowedTenants) {
    checks.add(`token:user:${tenantId}`, false, async () => {
      await relay.user.validator.checkKeys(tenantId);
      return `User tokens of tenant ${tenantId} can be validated (signing keys readable).`;
    });
  }
}

/** The incidents queue and claim-check container, the webhook outbox and destinations, inbound retries. */
function destinationChecks({ relay, checks }: CheckContext): void {
  const { config } = relay;
  const { incidentsQueue, claimCheckContainer } = config.names;
  checks.add(`destination:queue:${incidentsQueue}`, true, async () => {
    try {
      if (!(await relay.storage.queues.getQueueClient(incidentsQueue).exists())) {
        throw Object.assign(new Error('missing'), { statusCode: 404 });
      }
      await relay.storage.blobs.getContainerClient(claimCheckContainer).getProperties();
    } catch (error) {
      throw storageFailure(
        error,
        `Queue ${incidentsQueue} or container ${claimCheckContainer}`,
        'INCIDENTS_QUEUE_NAME / CLAIM_CHECK_CONTAINER_NAME',
      );
    }
    return 'The incidents queue and the claim-check container are reachable.';
  });
  const { webhooks } = config;
  if (webhooks.destinations.length > 0) {
    checks.add(`destination:webhooks:${webhooks.outboxQueue}`, true, async () => {
      try {
        await relay.storage.queues.getQueueClient(webhooks.outboxQueue).getProperties();
      } catch (error) {
        throw storageFailure(
          error,
          `Webhook outbox queue ${webhooks.outboxQueue}`,
          'WEBHOOK_OUTBOX_QUEUE_NAME',
        );
      }
      return `${webhooks.destinations.length} webhook destination(s); the outbox queue is reachable.`;
    });
    // Each destination's secrets: present in Key Vault and usable (src/health/webhook-checks.ts).
    for (const destination of webhooks.destinations)
      checks.add(`webhook:${destination.name}`, true, () =>
        checkWebhookDestination(relay.secrets, destination),
      );
  }
  checks.add(`inbound:queue:${config.inbound.retryQueue}`, false, async () => {
    try {
      const q = relay.storage.queues.getQueueClient(config.inbound.retryQueue);
      if (!(await q.exists()))
        return 'The inbound retry queue does not exist yet (it is created on first use).';
      const props = await q.getProperties();
      return `${props.approximateMessagesCount ?? 0} inbound update(s) waiting for retry.`;
    } catch (error) {
      throw storageFailure(error, `Queue ${config.inbound.retryQueue}`, 'INBOUND_RETRY_QUEUE_NAME');
    }
  });
  inboundTableCheck(relay, checks);
}

/**
 * The inbound table holds the inbound message ids and the two-way version ledger, which every sync
 * writes before it delivers (src/two-way/version-ledger.ts): a table the app cannot use stops the sync.
 */
function inboundTableCheck(relay: HealthRelay, checks: CheckList): void {
  const { table } = relay.config.inbound;
  checks.add(`inbound:table:${table}`, true, async () => {
    try {
      const rows = relay.storage.table(table).listEntities({ queryOptions: { select: ['RowKey'] } });
      await rows.byPage({ maxPageSize: 1 }).next();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404)
        return `The inbound table ${table} does not exist yet (the first sync creates it).`;
      throw storageFailure(error, `The inbound table ${table}`, 'INBOUND_TABLE_NAME');
    }
    return `The inbound table ${table} (inbound message ids, the two-way version ledger) is reachable.`;
  });
}

/** Per tenant: the lag (src/sync/lag.ts) and the completeness sweep's figures (docs/completeness.md). */
function tenantStateChecks({ relay, checks, now }: CheckContext, tenants: string[], maxLag: number): void {
  const { config } = relay;
  for (const tenantId of tenants) {
    checks.add(`lag:${tenantId}`, true, async () => {
      let state;
      try {
        state = await relay.state.getTenant(tenantId);
      } catch (error) {
        throw storageFailure(error, `The state table ${config.names.stateTable}`, 'STATE_TABLE_NAME');
      }
      return lagVerdict(tenantId, state, {
        now: now(),
        maxLag,
        initialLookbackMs: config.sync.initialLookbackMs,
      });
    });
  }
  // Optional, so a miss degrades the answer rather than failing it.
  const sweepLag = Math.round(config.sweep.windowMs / 1000) + 3 * 3600;
  for (const tenantId of tenants) {
    checks.add(`completeness:${tenantId}`, false, async () => {
      const row = completenessRow(tenantId, await relay.sweepState.get(tenantId), now());
      return { ...completenessHealth(row, sweepLag), completeness: row };
    });
  }
}

/** Any required check failed: unhealthy; only optional ones: degraded. */
function verdict(results: HealthCheck[], now: number): HealthReport {
  const requiredFailed = results.some((c) => !c.ok && c.required);
  const optionalFailed = results.some((c) => !c.ok && !c.required);
  return {
    status: requiredFailed ? 'unhealthy' : optionalFailed ? 'degraded' : 'healthy',
    checkedAt: new Date(now).toISOString(),
    checks: results,
  };
}
