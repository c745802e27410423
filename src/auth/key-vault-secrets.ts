/**
 * Secrets read from Key Vault with the managed identity, cached for a bounded time.
 *
 * The vault is a shared dependency the relay's own tokens need, so nothing a caller sends may spend it:
 *
 * - A secret is read at most once per refresh interval (SECRET_REFRESH_MIN_SECONDS), whatever asks:
 *   `get` after the cache time (SECRET_CACHE_TTL_SECONDS), or `refresh` (Entra ID rejected a rotated
 *   secret, an inbound signature did not match, a webhook answered 401). Inside the interval both answer
 *   the value (or the failure) of the last read.
 * - Concurrent callers share one read (single-flight).
 * - A read that fails keeps the last good value: callers go on with it until a later read succeeds. A
 *   secret never read successfully answers the last failure until the interval has passed.
 */
import type { SecretClient } from '@azure/keyvault-secrets';
import { RelayAuthError } from './errors';

export interface SecretSource {
  get(name: string): Promise<string>;
  /** Reads the secret again, unless it was read within the refresh interval (then: the last value). */
  refresh(name: string): Promise<string>;
}

interface Entry {
  /** The last value read successfully. */
  value?: string;
  /** The last failure, while no value was ever read. */
  error?: unknown;
  /** When the last read started. */
  readAt: number;
  inflight?: Promise<string>;
}

export interface KeyVaultSecretsOptions {
  /** How long a value is used before it is read again. */
  ttlMs: number;
  /** The least time between two reads of one secret. */
  minRefreshMs: number;
  now?: () => number;
  /** Told when a read failed and the last good value is kept. */
  onStale?: (name: string, error: unknown) => void;
  /** Who reads, in the words of its errors (default: the Function App's managed identity). */
  caller?: KeyVaultCaller;
}

/** Who reads the vault, for errors a person can act on. */
export interface KeyVaultCaller {
  /** The subject of "… may not read secret": e.g. "The Function App's managed identity". */
  who: string;
  /** What to do when no token can be had at all. */
  noToken: string;
}

export const MANAGED_IDENTITY_CALLER: KeyVaultCaller = {
  who: "The Function App's managed identity",
  noToken:
    "No managed identity token for Key Vault: turn on the Function App's managed identity, and if it is user-assigned set MANAGED_IDENTITY_CLIENT_ID to its client id.",
};

export class KeyVaultSecrets implements SecretSource {
  private readonly cache = new Map<string, Entry>();
  private reads = 0;
  private readonly now: () => number;

  constructor(
    private readonly client: SecretClient,
    private readonly options: KeyVaultSecretsOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** How many times the vault was actually asked (the benchmark's "Key Vault reads"). */
  get readCount(): number {
    return this.reads;
  }

  get(name: string): Promise<string> {
    const entry = this.cache.get(name);
    const maxAge = Math.max(this.options.ttlMs, this.options.minRefreshMs);
    return this.answer(name, entry, entry !== undefined && this.now() - entry.readAt < maxAge);
  }

  refresh(name: string): Promise<string> {
    const entry = this.cache.get(name);
    return this.answer(
      name,
      entry,
      entry !== undefined && this.now() - entry.readAt < this.options.minRefreshMs,
    );
  }

  private answer(name: string, entry: Entry | undefined, recent: boolean): Promise<string> {
    if (entry?.inflight) return entry.inflight;
    if (entry && recent) {
      return entry.value !== undefined ? Promise.resolve(entry.value) : Promise.reject(entry.error);
    }
    return this.start(name, entry ?? { readAt: 0 });
  }

  private start(name: string, entry: Entry): Promise<string> {
    entry.readAt = this.now();
    this.cache.set(name, entry);
    const read = this.read(name).then(
      (value) => {
        entry.value = value;
        entry.error = undefined;
        return value;
      },
      (error: unknown) => {
        if (entry.value !== undefined) {
          this.options.onStale?.(name, error);
          return entry.value;
        }
        entry.error = error;
        throw error;
      },
    );
    entry.inflight = read.finally(() => {
      entry.inflight = undefined;
    });
    // The shared promise is awaited by callers; a failure nobody awaits is not an unhandled rejection.
    entry.inflight.catch(() => undefined);
    return entry.inflight;
  }

  private async read(name: string): Promise<string> {
    this.reads++;
    try {
      const secret = await this.client.getSecret(name);
      if (secret.value === undefined || secret.value === '') {
        throw new RelayAuthError(
          `Key Vault secret '${name}' in ${this.client.vaultUrl} is empty: store the value in it.`,
          'secret_empty',
        );
      }
      return secret.value;
    } catch (error) {
      throw describeKeyVaultError(error, name, this.client.vaultUrl, this.options.caller);
    }
  }
}
export function describeKeyVaultError(
  error: unknown,
  name: string,
  vaultUrl: string,
  caller: KeyVaultCaller = MANAGED_IDENTITY_CALLER,
): Error {
  if (error instanceof RelayAuthError) return error;
  const e = error as { statusCode?: number; code?: string; name?: string; message?: string };
  if (e?.statusCode === 403) {
    return new RelayAuthError(
      `${caller.who} may not read secret '${name}' from ${vaultUrl}: give it the "Key Vault Secrets User" role on the vault ` +
        '(the vault must use Azure RBAC; role assignments take a few minutes to apply).',
      'keyvault_forbidden',
    );
  }
  if (e?.statusCode === 404) {
    return new RelayAuthError(
      `Key Vault ${vaultUrl} has no secret named '${name}': create it (az keyvault secret set --vault-name <vault> --name ${name} --value <value>) or fix the setting that names it.`,
      'secret_not_found',
    );
  }
  if (e?.statusCode === 401) {
    return new RelayAuthError(
      `Key Vault ${vaultUrl} rejected the token of ${caller.who.charAt(0).toLowerCase()}${caller.who.slice(1)}: check that the vault is in its tenant.`,
      'keyvault_unauthorized',
    );
  }
  if (
    e?.name === 'CredentialUnavailableError' ||
    e?.name === 'AuthenticationRequiredError' ||
    e?.name === 'AuthenticationError' ||
    e?.name === 'AggregateAuthenticationError'
  ) {
    return new RelayAuthError(caller.noToken, 'managed_identity_unavailable', true);
  }
  return new RelayAuthError(
    `Reading secret '${name}' from ${vaultUrl} failed (${e?.code ?? e?.statusCode ?? e?.name ?? 'error'}): check KEY_VAULT_URL and the network.`,
    'keyvault_error',
    true,
  );
}
