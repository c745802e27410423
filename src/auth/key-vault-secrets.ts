/**
 * Secrets read from Key Vault with the managed identity, cached for a bounded time. Concurrent reads of
 * one secret share one request; `refresh` forces a new read (used when Entra ID rejects a rotated secret).
 */
import type { SecretClient } from '@azure/keyvault-secrets';
import { RelayAuthError } from './errors';

export interface SecretSource {
  get(name: string): Promise<string>;
  /** Reads the secret again now, bypassing the cache. */
  refresh(name: string): Promise<string>;
}

interface Entry {
  value: Promise<string>;
  expiresAt: number;
}

export class KeyVaultSecrets implements SecretSource {
  private readonly cache = new Map<string, Entry>();
  private reads = 0;

  constructor(
    private readonly client: SecretClient,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many times the vault was actually asked (the benchmark's "Key Vault reads"). */
  get readCount(): number {
    return this.reads;
  }

  get(name: string): Promise<string> {
    const hit = this.cache.get(name);
    if (hit && hit.expiresAt > this.now()) return hit.value;
    return this.refresh(name);
  }

  refresh(name: string): Promise<string> {
    const value = this.read(name);
    this.cache.set(name, { value, expiresAt: this.now() + this.ttlMs });
    value.catch(() => {
      if (this.cache.get(name)?.value === value) this.cache.delete(name);
    });
    return value;
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
      throw describeKeyVaultError(error, name, this.client.vaultUrl);
    }
  }
}

export function describeKeyVaultError(error: unknown, name: string, vaultUrl: string): Error {
  if (error instanceof RelayAuthError) return error;
  const e = error as { statusCode?: number; code?: string; name?: string; message?: string };
  if (e?.statusCode === 403) {
    return new RelayAuthError(
      `The Function App's managed identity may not read secret '${name}' from ${vaultUrl}: give it the "Key Vault Secrets User" role on the vault ` +
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
      `Key Vault ${vaultUrl} rejected the managed identity's token: check that the vault is in the app's tenant.`,
      'keyvault_unauthorized',
    );
  }
  if (
    e?.name === 'CredentialUnavailableError' ||
    e?.name === 'AuthenticationRequiredError' ||
    e?.name === 'AuthenticationError'
  ) {
    return new RelayAuthError(
      "No managed identity token for Key Vault: turn on the Function App's managed identity, and if it is user-assigned set MANAGED_IDENTITY_CLIENT_ID to its client id.",
      'managed_identity_unavailable',
      true,
    );
  }
  return new RelayAuthError(
    `Reading secret '${name}' from ${vaultUrl} failed (${e?.code ?? e?.statusCode ?? e?.name ?? 'error'}): check KEY_VAULT_URL and the network.`,
    'keyvault_error',
    true,
  );
}
