/**
 * Admin-consent onboarding over HTTP (anonymous: a customer's administrator clicks the link).
 *
 *   GET /api/consent?tenant=<id or domain>   → 302 to Entra ID's admin-consent page (JSON clients: the link)
 *   GET /api/consent/callback?...            → a small page saying what happened and what happens next
 *
 * Thin: the work is in src/tenants/consent.ts. Browsers get HTML pages (every value escaped); a client
 * that asks for JSON (`Accept: application/json`) gets JSON, and RFC 9457 problem JSON for errors.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { HttpProblem, jsonResponse, problemResponse } from '../http/problem';
import { ConsentError, type ConsentService } from '../tenants/consent';

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
        `Tenant ${result.tenantId} onboarded by admin consent${result.wasKnown ? ' (again)' : ''}.`,
      );
      if (wantsJson(request)) {
        return jsonResponse(200, {
          tenantId: result.tenantId,
          status: result.tenant.status,
          onboardedAt: result.tenant.onboardedAt,
          reconsent: result.wasKnown,
        });
      }
      return page(200, 'Tenant onboarded', [
        `Admin consent for tenant <strong>${escapeHtml(result.tenantId)}</strong> was received and recorded${result.wasKnown ? ' (this tenant was known already; it is enabled again)' : ''}.`,
        'What happens next: the relay syncs this tenant’s Microsoft Defender incidents from its next scheduled run (every few minutes). ' +
          'Entra ID can take a few minutes to make a new consent effective everywhere; a first run that fails for that reason is retried by the next one.',
        'To stop it later, remove the app from the tenant’s Enterprise applications, or ask your service provider to disable the tenant.',
        'You can close this page.',
      ]);
    });
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
      if (status >= 500) context.warn(`${context.functionName}: ${status} ${code}`);
      if (wantsJson(request)) {
        const headers = error instanceof HttpProblem ? error.headers : undefined;
        return problemResponse(new HttpProblem(status, detail, { code, title, headers }), pathOf(request));
      }
      return page(status, title, [escapeHtml(detail)]);
    }
    // Storage or Key Vault failed: no detail to the caller, the cause (without secrets) in the log.
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
