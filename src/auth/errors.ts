/**
 * Errors that name a cause a user can act on. `userMessage` never contains a secret, a token or a URL
 * with credentials; it is safe to log and to return.
 */
export class RelayAuthError extends Error {
  constructor(
    message: string,
    public readonly code: string,
    /** Whether trying again later can help (throttling, outages) or a person must act first. */
    public readonly transient = false,
  ) {
    super(message);
    this.name = 'RelayAuthError';
  }
}

/** Known AADSTS codes and what the person who deploys the relay can do about them. */
const AADSTS: Record<number, (ctx: { tenantId: string; clientId: string; resource: string }) => string> = {
  90002: (c) =>
    `Tenant ${c.tenantId} does not exist in this cloud (AADSTS90002). Check the tenant id and DEFENDER_CLOUD.`,
  700016: (c) =>
    `The app ${c.clientId} is not known in tenant ${c.tenantId} (AADSTS700016): it is not registered there and no admin of that tenant has consented to it. ` +
    'For a customer tenant, send its admin the consent link; for the home tenant, check DEFENDER_CLIENT_ID and DEFENDER_TENANT_ID.',
  7000215: (c) =>
    `Entra ID rejected the client secret of app ${c.clientId} (AADSTS7000215: invalid secret). Put the secret's VALUE (not its ID) in the Key Vault secret.`,
  7000222: (c) =>
    `The client secret of app ${c.clientId} has expired (AADSTS7000222). Create a new secret on the app registration and store it in Key Vault.`,
  65001: (c) =>
    `Tenant ${c.tenantId} has not consented to the app's permissions for ${c.resource} (AADSTS65001). An admin of that tenant must grant admin consent.`,
  500011: (c) =>
    `The API ${c.resource} is not available in tenant ${c.tenantId} (AADSTS500011): its service principal is missing, or the app has no permission on it. ` +
    'Add the Defender API permission to the app registration and grant admin consent.',
  7000229: (c) =>
    `The app ${c.clientId} has no service principal in tenant ${c.tenantId} (AADSTS7000229): an admin of that tenant must consent to it.`,
  700027: (c) =>
    `Entra ID rejected the client assertion of app ${c.clientId} (AADSTS700027): the certificate is not registered on the app or the assertion is malformed.`,
  700024: () =>
    'The client assertion is outside its valid time range (AADSTS700024): check the clock and the assertion lifetime.',
  70021: (c) =>
    `No federated identity credential on app ${c.clientId} matches the managed identity's token (AADSTS70021). Add one with issuer, subject (the identity's object id) and audience as in docs/deploy.md.`,
  70011: (c) =>
    `The scope for ${c.resource} is invalid (AADSTS70011). Check DEFENDER_GRAPH_RESOURCE / DEFENDER_LEGACY_RESOURCE.`,
  50034: () => 'The user account does not exist in that tenant (AADSTS50034).',
};

const REVOKED_CODES = new Set([700016, 65001, 7000229, 500011]);

/**
 * Entra ID outages and throttling, worth trying again within the run: AADSTS90033 ("a transient error has
 * occurred", HTTP 503 `temporarily_unavailable`), AADSTS50196 (loop detected: too many requests) and the
 * OAuth error `temporarily_unavailable` (RFC 6749 §5.2) or an HTTP 5xx/429 without a code.
 * Source: Microsoft Entra authentication and authorization error codes.
 */
const TRANSIENT_CODES = new Set([90033, 50196]);

function isTransientEntraFailure(error: unknown, codes: number[]): boolean {
  if (codes.some((c) => TRANSIENT_CODES.has(c))) return true;
  const e = error as { errorCode?: string; status?: number; statusCode?: number; message?: string };
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  return /temporarily_unavailable|server_error/i.test(`${e?.errorCode ?? ''} ${e?.message ?? ''}`);
}

/** Reads AADSTS codes out of an MSAL error (errorCode/errorMessage) or any error text. */
export function aadstsCodes(error: unknown): number[] {
  const e = error as { errorMessage?: string; message?: string; subError?: string };
  const text = `${e?.errorMessage ?? ''} ${e?.message ?? ''}`;
  return [...text.matchAll(/AADSTS(\d{4,8})/g)].map((m) => Number(m[1]));
}

export function describeEntraError(
  error: unknown,
  ctx: { tenantId: string; clientId: string; resource: string },
): RelayAuthError {
  const codes = aadstsCodes(error);
  if (isTransientEntraFailure(error, codes)) {
    return new RelayAuthError(
      `Entra ID is temporarily unavailable for tenant ${ctx.tenantId}${codes.length ? ` (AADSTS${codes[0]})` : ''}.`,
      'entra_unavailable',
      true,
    );
  }
  for (const code of codes) {
    const describe = AADSTS[code];
    if (describe) {
      return new RelayAuthError(describe(ctx), REVOKED_CODES.has(code) ? 'consent_missing' : `AADSTS${code}`);
    }
  }
  const e = error as { errorCode?: string; message?: string };
  if (codes.length > 0) {
    return new RelayAuthError(
      `Entra ID refused a token for ${ctx.resource} in tenant ${ctx.tenantId} (AADSTS${codes[0]}).`,
      `AADSTS${codes[0]}`,
    );
  }
  const network = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|network|timed? ?out/i.test(
    `${e?.errorCode} ${e?.message}`,
  );
  return new RelayAuthError(
    network
      ? `Entra ID could not be reached for tenant ${ctx.tenantId}: check DEFENDER_AUTHORITY_HOST and the network.`
      : `Getting a token for ${ctx.resource} in tenant ${ctx.tenantId} failed (${e?.errorCode ?? 'unknown error'}).`,
    network ? 'entra_unreachable' : (e?.errorCode ?? 'token_failed'),
    network,
  );
}

export function isInvalidClientSecret(error: unknown): boolean {
  return aadstsCodes(error).some((c) => c === 7000215 || c === 7000222);
}
