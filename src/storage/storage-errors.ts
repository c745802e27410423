/**
 * A storage failure in words a person can act on: which store, and what to check (the setting, the
 * roles, the network), never `connect ECONNREFUSED`. Used by the deep health checks and the CLI.
 */

const NETWORK_CODES = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)$/;

export function storageError(error: unknown, what: string, setting: string): string {
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e?.statusCode === 404)
    return `${what} does not exist: deploy infra/ (it creates it) or fix ${setting}.`;
  if (e?.statusCode === 403)
    return `The app's identity may not use ${what}: give it the storage data roles (infra/modules/roles.bicep does).`;
  return `${what} could not be reached (${e?.code ?? e?.statusCode ?? 'error'}): check AzureWebJobsStorage and the network.`;
}

/** The storage SDKs fail with a RestError carrying the request; a network failure has a socket code. */
export function isStorageFailure(error: unknown): boolean {
  const e = error as { name?: string; code?: string; request?: { url?: string } };
  return e?.name === 'RestError' && typeof e.request?.url === 'string';
}

/** What the CLI prints for a storage failure that ended a command. */
export function describeStorageFailure(error: unknown): string {
  const e = error as { code?: string; statusCode?: number; request?: { url?: string } };
  let where = 'Azure Storage';
  try {
    where = `Storage at ${new URL(e.request?.url ?? '').origin}`;
  } catch {
    // no URL: keep the generic name
  }
  if (e.code && NETWORK_CODES.test(e.code))
    return `${where} could not be reached (${e.code}): check AzureWebJobsStorage (or AzureWebJobsStorage__*ServiceUri), that the account or Azurite is running, and the network.`;
  return storageError(error, where, 'AzureWebJobsStorage');
}
