/**
 * One Defender API request with the relay's rules: a bearer token per tenant and API, a timeout, retries
 * with exponential backoff and full jitter on 5xx, timeouts and network errors, 429 honoured (Graph's
 * Retry-After header, or the legacy API's "Next call can be made in N seconds" body), and a per-run
 * budget of calls and time that stops a run cleanly instead of letting the Functions timeout cut it.
 * Transient token failures (Entra ID's 503 `temporarily_unavailable`, AADSTS90033; throttling; network)
 * are retried the same way, within the run's budget.
 *
 * Every Graph call carries `Prefer: include-unknown-enum-members`: without it Graph answers newer enum
 * members (status `awaitingAction`, new detection sources) as `unknownFutureValue` (Microsoft Graph
 * "Best practices: evolvable enums").
 */
import { redact } from '../http/redact';
import type { TokenProvider } from '../auth/app-token';
import type { ApiFlavour } from './incident';
import { BudgetExhaustedError, DefenderApiError } from './errors';
import { isRetiredAnswer, retiredMessage } from './legacy-retirement';

export interface RunBudget {
  /** Calls left in this run (counts every attempt). */
  callsLeft: number;
  /** Wall-clock deadline of the run, ms epoch. */
  deadline: number;
  /** Calls made so far, for the summary. */
  callsMade: number;
}

export function newBudget(maxCalls: number, maxRunMs: number, now = Date.now()): RunBudget {
  return { callsLeft: maxCalls, deadline: now + maxRunMs, callsMade: 0 };
}

export interface DefenderHttpOptions {
  tokens: TokenProvider;
  timeoutMs: number;
  maxRetries: number;
  /** Base of the exponential backoff. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Per-tenant limiter of one API's calls (the relay uses one for the legacy API's 50 calls a minute). */
  limiters?: Partial<Record<ApiFlavour, CallLimiter>>;
}

export interface CallLimiter {
  waitMs(key: string): number;
  acquire(key: string): Promise<void>;
}

export interface DefenderRequest {
  tenantId: string;
  api: ApiFlavour;
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  body?: unknown;
  budget?: RunBudget;
  /**
   * A write that must not be repeated blindly (posting a comment: comments cannot be edited or deleted on
   * Graph, so a repeat is permanent). Retried only when the service surely did not carry it out (429, or a
   * token failure before sending); a 5xx, a timeout or a lost connection goes up to the caller, which
   * checks what was done before trying again (src/two-way/comment-marker.ts).
   */
  notIdempotent?: boolean;
}

export interface DefenderResponse<T> {
  body: T;
  /** The server's clock when it answered (its `Date` header, whole seconds), ms epoch. */
  serverTime?: number;
}

/**
 * How long MSAL refuses a token request client-side after Entra ID answered it with a 5xx or 429 and no
 * Retry-After (msal-common ThrottlingUtils, DEFAULT_THROTTLE_TIME_SECONDS = 60), plus a second.
 */
export const MSAL_THROTTLE_MS = 61_000;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class DefenderHttp {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: DefenderHttpOptions) {
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  async json<T = Record<string, unknown>>(req: DefenderRequest): Promise<T> {
    return (await this.request<T>(req)).body;
  }

  /** The response body and the server's time. */
  async request<T = Record<string, unknown>>(req: DefenderRequest): Promise<DefenderResponse<T>> {
    const { maxRetries } = this.options;
    for (let attempt = 0; ; attempt++) {
      // A call is counted when it goes out: after the budget allows it and the rate limiter lets it.
      this.checkBudget(req);
      await this.limit(req);
      this.spend(req);
      const outcome = await this.attempt<T>(req);
      if ('response' in outcome) return outcome.response;
      const { failure, waitMs } = outcome;
      const unsure = req.notIdempotent && !(failure instanceof TransientTokenError) && failure.status !== 429;
      if (!failure.transient || attempt >= maxRetries || unsure)
        throw failure instanceof TransientTokenError ? failure.cause : failure;
      const backoff = Math.min(
        this.options.backoffMaxMs ?? 30_000,
        (this.options.backoffBaseMs ?? 500) * 2 ** attempt,
      );
      // After a 5xx or 429 from Entra ID, MSAL itself refuses the same token request for a while; a
      // request that got no answer (a reset connection, a timeout) leaves no throttle and is retried
      // like any other.
      const delay =
        failure instanceof TransientTokenError && failure.code === 'entra_unavailable'
          ? Math.max(MSAL_THROTTLE_MS, Math.round(this.random() * backoff))
          : (waitMs ?? Math.round(this.random() * backoff));
      if (req.budget && this.now() + delay > req.budget.deadline) {
        throw new BudgetExhaustedError(
          failure instanceof TransientTokenError
            ? `stopping: ${failure.message} Waiting ${Math.ceil(delay / 1000)} s for it would pass the run's time budget; the next run continues.`
            : `stopping: waiting ${Math.ceil(delay / 1000)} s for ${apiName(req.api)} (${failure.code}) would pass the run's time budget`,
        );
      }
      await this.sleep(delay);
    }
  }

  /** One try: the response, or the failure (and the wait the API asked for). */
  private async attempt<T>(
    req: DefenderRequest,
  ): Promise<
    { response: DefenderResponse<T> } | { failure: DefenderApiError | TransientTokenError; waitMs?: number }
  > {
    let token: string;
    try {
      token = await this.token(req);
    } catch (error) {
      if (error instanceof TransientTokenError) return { failure: error };
      throw error;
    }
    let response: Response;
    try {
      response = await this.send(req, token);
    } catch (error) {
      return { failure: this.networkFailure(req, error) };
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      return {
        failure: describeHttpError(req, response.status, text),
        waitMs: response.status === 429 ? retryAfterMs(response.headers.get('retry-after'), text) : undefined,
      };
    }
    const text = await response.text().catch(() => undefined);
    try {
      if (text === undefined) throw new Error('no body');
      return {
        response: { body: JSON.parse(text) as T, serverTime: serverTime(response.headers.get('date')) },
      };
    } catch {
      return {
        failure: new DefenderApiError(
          `${apiName(req.api)} answered ${response.status} with a body that is not JSON`,
          response.status,
          'malformed_response',
          true,
        ),
      };
    }
  }

  /**
   * A token for the call. Token errors (consent, secrets, Key Vault) carry their own message; the transient
   * ones (an Entra ID outage, throttling) are retried like an API 5xx, the others go up as they are.
   */
  private async token(req: DefenderRequest): Promise<string> {
    try {
      return await this.options.tokens.getToken(req.tenantId, req.api);
    } catch (error) {
      if ((error as { transient?: unknown })?.transient === true)
        throw new TransientTokenError(error as Error);
      throw error;
    }
  }

  private networkFailure(req: DefenderRequest, error: unknown): DefenderApiError {
    const timedOut = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError';
    return new DefenderApiError(
      timedOut
        ? `${apiName(req.api)} did not answer within ${this.options.timeoutMs} ms`
        : `${apiName(req.api)} could not be reached (${(error as { cause?: { code?: string } })?.cause?.code ?? (error as Error)?.message ?? 'network error'}): check the base URL setting and the network`,
      0,
      timedOut ? 'timeout' : 'network',
      true,
    );
  }

  /** Waits for the tenant's limiter, unless the wait would pass the run's deadline (then stops the run). */
  private async limit(req: DefenderRequest): Promise<void> {
    const limiter = this.options.limiters?.[req.api];
    if (!limiter) return;
    const wait = limiter.waitMs(req.tenantId);
    if (wait > 0 && req.budget && this.now() + wait > req.budget.deadline) {
      throw new BudgetExhaustedError(
        `stopping: the next ${apiName(req.api)} call would wait ${Math.ceil(wait / 1000)} s for the per-tenant rate limit, past the run's time budget`,
      );
    }
    await limiter.acquire(req.tenantId);
  }

  private checkBudget(req: DefenderRequest): void {
    const b = req.budget;
    if (!b) return;
    if (b.callsLeft <= 0)
      throw new BudgetExhaustedError('stopping: the run used its call budget (SYNC_MAX_API_CALLS_PER_RUN)');
    if (this.now() >= b.deadline)
      throw new BudgetExhaustedError('stopping: the run used its time budget (SYNC_MAX_RUN_SECONDS)');
  }

  private spend(req: DefenderRequest): void {
    this.checkBudget(req);
    if (!req.budget) return;
    req.budget.callsLeft--;
    req.budget.callsMade++;
  }

  private send(req: DefenderRequest, token: string): Promise<Response> {
    return fetch(req.url, {
      method: req.method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(req.api === 'graph' ? { prefer: 'include-unknown-enum-members' } : {}),
        ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
  }
}

/** A token request that may succeed if tried again; `cause` is what goes up when the retries are spent. */
class TransientTokenError extends Error {
  readonly transient = true;
  readonly code: string;
  constructor(override readonly cause: Error) {
    super(cause.message);
    this.code = String((cause as { code?: unknown }).code ?? 'token_unavailable');
  }
}

function serverTime(date: string | null): number | undefined {
  if (!date) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : ms;
}

export function apiName(api: ApiFlavour): string {
  return api === 'graph' ? 'Microsoft Graph' : 'the Defender XDR API';
}

/** Retry-After (seconds or HTTP date), else the legacy API's "Next call can be made in N seconds". */
export function retryAfterMs(header: string | null, body: string, now = Date.now()): number | undefined {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const m = /next call can be made in (\d+(?:\.\d+)?) ?(second|minute)/i.exec(body);
  if (m) return Math.ceil(Number(m[1]) * (m[2]?.toLowerCase() === 'minute' ? 60_000 : 1000));
  return undefined;
}

function errorCode(body: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body) as {
      error?: { code?: string; message?: string } | string;
      message?: string;
    };
    if (typeof parsed.error === 'object') return { code: parsed.error?.code, message: parsed.error?.message };
    return { code: typeof parsed.error === 'string' ? parsed.error : undefined, message: parsed.message };
  } catch {
    return {};
  }
}

const PERMISSIONS: Record<ApiFlavour, { read: string; write: string }> = {
  graph: { read: 'SecurityIncident.Read.All', write: 'SecurityIncident.ReadWrite.All' },
  legacy: { read: 'Incident.Read.All', write: 'Incident.ReadWrite.All' },
};

export function describeHttpError(req: DefenderRequest, status: number, body: string): DefenderApiError {
  const { code, message } = errorCode(body);
  const name = apiName(req.api);
  // Defender's own words may quote what it was sent: redacted before they reach a log or a problem body.
  const detail = message ? `: ${redact(message.slice(0, 300))}` : '';
  if (status === 429)
    return new DefenderApiError(
      `${name} is throttling tenant ${req.tenantId} (429)${detail}`,
      status,
      'throttled',
      true,
    );
  if (status >= 500)
    return new DefenderApiError(
      `${name} failed with ${status}${detail}`,
      status,
      code ?? 'server_error',
      true,
    );
  if (req.api === 'legacy' && isRetiredAnswer(status, message))
    return new DefenderApiError(retiredMessage(req.tenantId, status), status, 'legacy_api_retired', false);
  if (status === 401) {
    return new DefenderApiError(
      `${name} rejected the token for tenant ${req.tenantId} (401${code ? ` ${code}` : ''}): check DEFENDER_CLOUD and the API resource settings`,
      status,
      code ?? 'unauthorized',
      false,
    );
  }
  if (status === 403) {
    const perm = PERMISSIONS[req.api];
    const needed = req.method === 'GET' ? `${perm.read} (or ${perm.write})` : perm.write;
    return new DefenderApiError(
      `${name} refused access in tenant ${req.tenantId} (403): the app needs the application permission ${needed} with admin consent in that tenant${detail}`,
      status,
      code ?? 'forbidden',
      false,
    );
  }
  return new DefenderApiError(`${name} answered ${status}${detail}`, status, code ?? `http_${status}`, false);
}
