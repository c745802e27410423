/**
 * Why MSAL could not resolve a tenant's endpoints. MSAL Node reads the tenant's OpenID metadata
 * (`{authority host}/{tenant}/v2.0/.well-known/openid-configuration`) before it asks for a token; when
 * Entra ID refuses it (an unknown tenant: HTTP 400 with `AADSTS90002` in `error_description`), MSAL
 * throws `endpoints_resolution_error` and drops Entra's answer. This reads the document once more and
 * returns Entra's error, so the relay can say what is wrong in words (src/auth/errors.ts).
 */
export async function tenantDiscoveryFailure(
  authorityHost: string,
  tenantId: string,
  fetchFn: typeof fetch = fetch,
): Promise<Error | undefined> {
  try {
    const res = await fetchFn(
      `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`,
      { signal: AbortSignal.timeout(10_000) },
    );
    if (res.ok) return undefined;
    const body = (await res.json().catch(() => ({}))) as { error?: string; error_description?: string };
    return Object.assign(new Error(body.error_description ?? `HTTP ${res.status}`), {
      errorCode: body.error,
      status: res.status,
    });
  } catch (error) {
    // Not reachable: MSAL's own error stands (the caller keeps it).
    return error instanceof Error && /ECONNREFUSED|ENOTFOUND|ETIMEDOUT/.test(String(error.cause ?? ''))
      ? Object.assign(new Error(String(error.cause)), { errorCode: 'network' })
      : undefined;
  }
}
