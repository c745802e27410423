/**
 * Admin-consent onboarding over HTTP.
 *
 *   GET /api/consent?tenant=<id or domain>   → 302 to Entra ID's admin-consent page (JSON clients: the link).
 *                                              Function key: issuing a link is the operator's act.
 *   GET /api/consent/callback?...            → anonymous (the customer's administrator comes back from
 *                                              Entra ID): a small page saying what happened and what next
 *
 * Thin: the work is in src/tenants/consent.ts. Browsers get HTML pages (every value escaped); a client
 * that asks for JSON (`Accept: application/json`) gets JSON, and RFC 9457 problem JSON for errors.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { HttpProblem, jsonResponse, problemResponse } from '../http/problem';
import { redact } from '../http/redact';
import { RelayAuthError } from '../auth/errors';
import { ConsentError, type ConsentResult, type ConsentService } from '../tenants/consent';

export interface ConsentDeps {
  consent: ConsentService;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function consentStartHandler(relay: ConsentDeps): HttpHandler {
  return (request, context) =>
    answer(request, context, async () => {
      requireGet(request);
      const link = await relay.consent.start(request.query.get('tenant'));
      if (wantsJson(request)) {
        return jsonResponse(200, {
          consentUrl: link.url,
          tenantId: link.tenantId,
          expiresAt: link.expiresAt,
        });
      }
      return {
        status: 302,
        headers: { location: link.url, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
      };
    });
}

export function consentCallbackHandler(relay: ConsentDeps): HttpHandler {
  return (request, context) =>
    answer(request, context, async () => {
      requireGet(request);
      const result = await relay.consent.complete(request.query);
      context.log(
        `Tenant ${result.tenantId}: admin consent proven (roles ${result.roles.join(', ')}); ${result.outcome}.`,
      );
      if (wantsJson(request)) {
        return jsonResponse(200, {
          tenantId: result.tenantId,
          status: result.tenant.status,
          onboardedAt: result.tenant.onboardedAt,
          reconsent: result.wasKnown,
          outcome: result.outcome,
        });
      }
      return page(
        200,
        result.outcome === 'kept-off' ? 'Consent received' : 'Tenant onboarded',
        callbackPage(result),
      );
    });
}

function callbackPage(result: ConsentResult): string[] {
  const tenant = `<strong>${escapeHtml(result.tenantId)}</strong>`;
  if (result.outcome === 'kept-off') {
    return [
      `Admin consent for tenant ${tenant} was confirmed with Entra ID and recorded.`,
      `Your service provider has this tenant ${escapeHtml(result.tenant.status)} on the relay, so its incidents are not synced. ` +
        'Consent does not switch it back on: ask your service provider to enable the tenant if it should be synced again.',
      'You can close this page.',
    ];
  }
  return [
    `Admin consent for tenant ${tenant} was confirmed with Entra ID and recorded${result.wasKnown ? ' (this tenant was known already)' : ''}.`,
    'What happens next: the relay syncs this tenant’s Microsoft Defender incidents from its next scheduled run (every few minutes).',
    'To stop it later, remove the app from the tenant’s Enterprise applications, or ask your service provider to disable the tenant.',
    'You can close this page.',
  ];
}

async function answer(
  request: HttpRequest,
  context: InvocationContext,
  handle: () => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  try {
    return await handle();
  } catch (error) {
    if (error instanceof ConsentError || error instanceof HttpProblem) {
      const status = error.status;
      const code = error.code;
      const title = error.title;
      const detail = error.detail ?? '';
      const cause = error instanceof ConsentError ? error.logDetail : undefined;
      if (status >= 500 || cause)
        context.warn(`${context.functionName}: ${status} ${code}${cause ? `: ${redact(cause)}` : ''}`);
      if (wantsJson(request)) {
        const headers = error instanceof HttpProblem ? error.headers : undefined;
        return problemResponse(new HttpProblem(status, detail, { code, title, headers }), pathOf(request));
      }
      return page(status, title, [escapeHtml(detail)]);
    }
    if (error instanceof RelayAuthError) {
      // Key Vault (or the managed identity) failed: what to do is for the operator, in the log.
      context.error(`${context.functionName}: 503 ${error.code}: ${redact(error.message)}`);
      const detail =
        'Onboarding is unavailable right now: the relay could not read what it needs. Try again in a few minutes; its operator finds the cause in its log.';
      if (wantsJson(request)) {
        return problemResponse(
          new HttpProblem(503, detail, { code: 'relay-unavailable', headers: { 'retry-after': '60' } }),
          pathOf(request),
        );
      }
      return page(503, 'Onboarding unavailable', [escapeHtml(detail)]);
    }
    // Storage failed: no detail to the caller, the cause (without secrets) in the log.
    const e = error as { name?: string; code?: string; statusCode?: number };
    context.error(
      `${context.functionName}: unexpected ${e?.name ?? 'error'} ${e?.code ?? ''} ${e?.statusCode ?? ''}`.trim(),
    );
    const detail =
      'The relay could not handle this request right now. Try again in a few minutes; the error is in its log.';
    if (wantsJson(request)) {
      return problemResponse(
        new HttpProblem(500, detail, {
          code: 'internal-error',
          extensions: { invocationId: context.invocationId },
        }),
        pathOf(request),
      );
    }
    return page(500, 'Something went wrong', [escapeHtml(detail)]);
  }
}

function requireGet(request: HttpRequest): void {
  if (request.method.toUpperCase() !== 'GET') {
    throw new HttpProblem(405, `Use GET, not ${request.method}.`, {
      code: 'method-not-allowed',
      headers: { allow: 'GET' },
    });
  }
}

function wantsJson(request: HttpRequest): boolean {
  const accept = request.headers.get('accept') ?? '';
  return /application\/(problem\+)?json/i.test(accept) && !/text\/html/i.test(accept);
}

function pathOf(request: HttpRequest): string | undefined {
  try {
    return new URL(request.url).pathname;
  } catch {
    return undefined;
  }
}

/** A small page; `paragraphs` are HTML already escaped by the caller. */
function page(status: number, title: string, paragraphs: string[]): HttpResponseInit {
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Defender Relay</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${paragraphs.map((p) => `<p>${p}</p>`).join('\n')}
<p><small>Defender Relay · HTTP ${status}</small></p>
</body></html>`;
  return { status, headers: PAGE_HEADERS, body };
}

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"'`]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!,
  );
}
