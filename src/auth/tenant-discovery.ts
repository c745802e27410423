/**
 * Why MSAL could not resolve a tenant's endpoints. MSAL Node reads the tenant's OpenID metadata
 * (`{authority host}/{tenant}/v2.0/.well-known/openid-configuration`) before it asks for a token; when
 * that read fails it throws `endpoints_resolution_error` and drops Entra's answer: an unknown tenant
 * (HTTP 400 with `AADSTS90002` in `error_description`), an outage, or a connection that broke. This reads
 * the document once more and says which, so the relay can say what is wrong in words (src/auth/errors.ts),
 * or try again when the document is readable now (the failure was passing).
 */
export type TenantDiscovery =
  /** Entra ID answered with an error (its `error` and `error_description`), or could not be reached. */
  | { kind: 'failed'; error: Error }
  /** The document reads fine now: what failed before was passing. */
  | { kind: 'readable' }
  /** Neither could be told. */
  | { kind: 'unknown' };

export async function tenantDiscovery(
  authorityHost: string,
  tenantId: string,
  fetchFn: typeof fetch = fetch,
): Promise<TenantDiscovery> {
  try {
    const res = await fetchFn(
      `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`,
      { signal: AbortSignal.timeout(10_000) },
    );
    if (res.ok) return { kind: 'readable' };
    const body = (await res.json().catch(() => ({}))) as { error?: string; error_description?: string };
    const error = Object.assign(new Error(body.error_description ?? `HTTP ${res.status}`), {
      errorCode: body.error,
      status: res.status,
    });
    return { kind: 'failed', error };
  } catch (error) {
    // Not reachable: a network error names it; otherwise MSAL's own error stands (the caller keeps it).
    return error instanceof Error && /ECONNREFUSED|ENOTFOUND|ETIMEDOUT/.test(String(error.cause ?? ''))
      ? { kind: 'failed', error: Object.assign(new Error(String(error.cause)), { errorCode: 'network' }) }
      : { kind: 'unknown' };
  }
}
