/**
 * Admin-consent onboarding (partner context). `start` turns a customer tenant (id or verified domain) into
 * the admin-consent URL of this app, `${authorityHost}/${tenant}/adminconsent?client_id&redirect_uri&state`,
 * with a signed, expiring, single-use `state` pinned to that tenant. Issuing a link is an operator's act
 * (`GET /api/consent` takes the function key; `defender-relay tenants invite`). `complete` checks what
 * Entra ID sends back to the redirect URI (`admin_consent=True`, `tenant`, `state`), then proves the
 * consent before recording anything: it asks Entra ID for a new application token for that tenant, and
 * the token's roles must hold the incident permission the relay reads with. Only then is the tenant
 * recorded; a tenant an operator disabled or removed stays so.
 *
 * state = base64url(JSON payload) "." base64url(HMAC-SHA256(payload part, key)); the payload holds the
 * tenant id, a random nonce and the expiry. The key is a Key Vault secret (CONSENT_STATE_KEY_SECRET_NAME);
 * a signature that does not verify is checked once more against the key read again (rotation; at most one
 * read per SECRET_REFRESH_MIN_SECONDS, so forged states cannot spend the vault). A nonce is consumed in the
 * tenants table when the consent is recorded, so a `state` works once; a consent that could not be proven
 * consumes nothing, so the administrator can reload the page once Entra ID has caught up.
 *
 * Nothing here knows HTTP: failures are `ConsentError`s with a status, a code and a message for people.
 */
import * as crypto from 'node:crypto';
import type { SecretSource } from '../auth/key-vault-secrets';
import type { TokenProvider } from '../auth/app-token';
import { RelayAuthError } from '../auth/errors';
import type { ApiFlavour } from '../defender/incident';
import { isTenantId, type ConsentRecord, type TenantEntry, type TenantRegistry } from './tenant-registry';

export interface ConsentOptions {
  clientId: string;
  authorityHost: string;
  /** The redirect URI registered on the app registration; undefined: onboarding is off. */
  redirectUri?: string;
  stateLifetimeMs: number;
  keySecretName: string;
  secrets?: SecretSource;
  registry: TenantRegistry;
  /** Application-context tokens: the proof of a consent. */
  tokens: TokenProvider;
  /** The API the relay reads: whose incident permission the consent must grant. */
  api: ApiFlavour;
  now?: () => number;
  fetch?: typeof fetch;
}

export class ConsentError extends Error {
  constructor(
    readonly status: number,
    /** Machine-readable code (the problem type ends with it). */
    readonly code: string,
    readonly title: string,
    /** For the person in front of the browser; never holds a secret nor the relay's insides. */
    readonly detail: string,
    /** For the relay's log (the operator): the cause behind `detail`. */
    readonly logDetail?: string,
  ) {
    super(detail);
    this.name = 'ConsentError';
  }
}

export interface ConsentLink {
  url: string;
  tenantId: string;
  expiresAt: string;
}

export interface ConsentResult {
  tenantId: string;
  /** Whether the tenant was already in the registry (a re-consent). */
  wasKnown: boolean;
  tenant: TenantEntry;
  /** `kept-off`: consent recorded, but an operator has the tenant disabled or removed. */
  outcome: ConsentRecord['outcome'];
  /** The application roles the consent grants (from the proving token). */
  roles: string[];
}

/** The incident permission the relay reads with, per API: one of them must be granted. */
export const REQUIRED_ROLES: Record<ApiFlavour, string[]> = {
  graph: ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'],
  legacy: ['Incident.Read.All', 'Incident.ReadWrite.All'],
};

/** What Entra ID's OAuth error codes mean, in fixed words (its free text is shown only with a valid state). */
const ENTRA_ERRORS: Record<string, string> = {
  access_denied: 'The administrator declined the permissions, or cancelled',
  consent_required: 'Entra ID needs an administrator to consent',
  interaction_required: 'Entra ID needs the administrator to sign in again',
  login_required: 'Entra ID needs the administrator to sign in',
  invalid_request: 'Entra ID could not handle the consent request',
  invalid_client: 'Entra ID does not know this app in that tenant',
  unauthorized_client: 'Entra ID does not allow this app in that tenant',
  server_error: 'Entra ID had an internal error',
  temporarily_unavailable: 'Entra ID was temporarily unavailable',
};

interface StatePayload {
  v: 1;
  /** Tenant id. */
  t: string;
  /** Nonce. */
  n: string;
  /** Expiry, seconds since the epoch. */
  e: number;
}

const DOMAIN =
  /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const MIN_KEY_LENGTH = 32;
/** The largest time a JavaScript Date holds (ms). */
const MAX_DATE_MS = 8.64e15;

function stateUsed(): ConsentError {
  return new ConsentError(
    409,
    'state-used',
    'Link already used',
    'This consent answer was already processed once; a link works only once. Nothing new was recorded. ' +
      'Ask your service provider for a new link if needed.',
  );
}

/** The application roles in an access token from Entra ID (its payload; the token came straight from Entra ID). */
export function tokenRoles(token: string): string[] {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      roles?: unknown;
    };
    return Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

export class ConsentService {
  private readonly now: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ConsentOptions) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? fetch;
  }

  get enabled(): boolean {
    return !!this.options.redirectUri && !!this.options.secrets;
  }

  /** The admin-consent link for a tenant id or domain (a domain is resolved to its tenant id first). */
  async start(tenant: string | null | undefined): Promise<ConsentLink> {
    this.requireEnabled();
    const hint = (tenant ?? '').trim();
    if (!hint) {
      throw new ConsentError(
        400,
        'tenant-missing',
        'Which tenant?',
        'Add ?tenant=<tenant id or domain> to the link, e.g. /api/consent?tenant=contoso.onmicrosoft.com.',
      );
    }
    if (!isTenantId(hint) && !DOMAIN.test(hint)) {
      throw new ConsentError(
        400,
        'tenant-invalid',
        'Not a tenant',
        'The tenant must be a tenant id (a GUID) or a domain name such as contoso.onmicrosoft.com.',
      );
    }
    const tenantId = isTenantId(hint) ? hint.toLowerCase() : await this.resolveDomain(hint);
    const expiresAtMs = this.now() + this.options.stateLifetimeMs;
    const payload: StatePayload = {
      v: 1,
      t: tenantId,
      n: crypto.randomBytes(16).toString('base64url'),
      e: Math.floor(expiresAtMs / 1000),
    };
    const state = await this.sign(payload);
    const url = new URL(`${this.options.authorityHost}/${tenantId}/adminconsent`);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', this.options.redirectUri!);
    url.searchParams.set('state', state);
    return { url: url.toString(), tenantId, expiresAt: new Date(payload.e * 1000).toISOString() };
  }

  /**
   * Checks the redirect from Entra ID, proves the consent with a new application token for the tenant,
   * and records the tenant. Throws ConsentError; records nothing then.
   */
  async complete(query: URLSearchParams): Promise<ConsentResult> {
    this.requireEnabled();
    if (query.get('error')) throw await this.entraError(query);
    const payload = await this.verify(query.get('state'));
    if (!/^true$/i.test(query.get('admin_consent') ?? '')) {
      throw new ConsentError(
        400,
        'consent-missing',
        'No admin consent',
        'Entra ID did not report admin_consent=True. Nothing was recorded; open the consent link again.',
      );
    }
    const tenantId = (query.get('tenant') ?? '').trim().toLowerCase();
    if (!isTenantId(tenantId) || tenantId !== payload.t) {
      throw new ConsentError(
        400,
        'tenant-mismatch',
        'Wrong tenant',
        `Consent came back for ${isTenantId(tenantId) ? `tenant ${tenantId}` : 'no valid tenant'}, but the link was made for tenant ${payload.t}. ` +
          'Nothing was recorded. Sign in as an administrator of the tenant the link was made for.',
      );
    }
    if (await this.options.registry.isNonceUsed(payload.n)) throw stateUsed();
    const roles = await this.prove(tenantId, payload);
    const known = await this.options.registry.get(tenantId);
    const fresh = await this.options.registry.consumeNonce(payload.n, {
      tenantId,
      expiresAt: new Date(payload.e * 1000).toISOString(),
    });
    if (!fresh) throw stateUsed();
    const record = await this.options.registry.recordConsent(tenantId, { consentId: payload.n });
    return {
      tenantId,
      wasKnown: !!known && known.source !== 'setting',
      tenant: record.tenant,
      outcome: record.outcome,
      roles,
    };
  }

  /**
   * The proof: a new application token for the tenant (not one from the cache), whose roles hold the
   * incident permission of the API the relay reads. Returns the roles granted.
   */
  private async prove(tenantId: string, payload: StatePayload): Promise<string[]> {
    const { api } = this.options;
    const retry = `The link stays valid until ${new Date(payload.e * 1000).toISOString()}.`;
    let token: string;
    try {
      token = await this.options.tokens.getToken(tenantId, api, { fresh: true });
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error);
      const notThere =
        error instanceof RelayAuthError && (error.code === 'consent_missing' || error.code === 'AADSTS90002');
      if (notThere) {
        throw new ConsentError(
          403,
          'consent-not-effective',
          'Consent not confirmed',
          `Entra ID does not let this app into tenant ${tenantId}: no administrator of that tenant has consented to it (or the consent is not effective yet). ` +
            `Nothing was recorded. If you accepted just now, wait a few minutes and reload this page. ${retry}`,
          `consent callback for tenant ${tenantId}: no application token (${cause})`,
        );
      }
      throw new ConsentError(
        503,
        'consent-unverified',
        'Consent could not be checked',
        `The relay could not confirm the consent with Entra ID right now. Nothing was recorded. Reload this page in a few minutes. ${retry}`,
        `consent callback for tenant ${tenantId}: proving the consent failed (${cause})`,
      );
    }
    const roles = tokenRoles(token);
    const needed = REQUIRED_ROLES[api];
    if (!needed.some((r) => roles.includes(r))) {
      throw new ConsentError(
        403,
        'permissions-missing',
        'Permissions missing',
        `The consent in tenant ${tenantId} does not grant the application permission ${needed.join(' or ')} that the relay needs. ` +
          `Nothing was recorded. Ask your service provider to check the app's permissions, then open the link again and accept as an administrator. ${retry}`,
        `consent callback for tenant ${tenantId}: the token's roles (${roles.join(', ') || 'none'}) hold none of ${needed.join(', ')}`,
      );
    }
    return roles;
  }

  /**
   * A consent answer with `error`: Entra ID's own description is shown only when the `state` is one this
   * relay issued (otherwise anyone could put text on the relay's page); without one, fixed words.
   */
  private async entraError(query: URLSearchParams): Promise<ConsentError> {
    const error = query.get('error') ?? '';
    const denied = /denied/i.test(error);
    const issued = await this.verify(query.get('state')).then(
      () => true,
      () => false,
    );
    const known = ENTRA_ERRORS[error];
    const description = issued ? (query.get('error_description') ?? '').split(/\r?\n/)[0]!.slice(0, 300) : '';
    const what = denied
      ? 'The administrator declined the permissions'
      : known
        ? `${known} ("${error}")`
        : 'Entra ID reported an error';
    return new ConsentError(
      denied ? 403 : 400,
      denied ? 'consent-denied' : 'consent-failed',
      denied ? 'Consent was not granted' : 'Consent failed',
      `${what}${description ? ` (${description})` : ''}. ` +
        'Nothing was recorded. To try again, open the consent link again and accept as an administrator of the customer tenant.',
    );
  }

  private requireEnabled(): void {
    if (!this.enabled) {
      throw new ConsentError(
        503,
        'consent-not-configured',
        'Onboarding is not set up',
        'Customer onboarding is off on this relay: its operator must set CONSENT_REDIRECT_URI (and KEY_VAULT_URL).',
      );
    }
  }

  private async key(fresh = false): Promise<Buffer> {
    const name = this.options.keySecretName;
    const value = fresh ? await this.options.secrets!.refresh(name) : await this.options.secrets!.get(name);
    if (value.length < MIN_KEY_LENGTH) {
      throw new ConsentError(
        503,
        'consent-key-weak',
        'Onboarding is not set up',
        'Customer onboarding is not set up correctly on this relay; its operator finds the cause in its log.',
        `The consent signing key (Key Vault secret '${name}', CONSENT_STATE_KEY_SECRET_NAME) is shorter than ${MIN_KEY_LENGTH} characters: store a long random value in it.`,
      );
    }
    return Buffer.from(value, 'utf8');
  }

  private async sign(payload: StatePayload): Promise<string> {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${hmac(await this.key(), body)}`;
  }

  private async verify(state: string | null): Promise<StatePayload> {
    const forged = () =>
      new ConsentError(
        400,
        'state-invalid',
        'Invalid link',
        'The consent answer does not carry a state this relay issued (it is missing, altered or from another relay). ' +
          'Nothing was recorded. Ask your service provider for a new consent link.',
      );
    const parts = (state ?? '').split('.');
    if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]+$/.test(parts[1]!))
      throw forged();
    const [body, signature] = parts as [string, string];
    const matches = (key: Buffer) => {
      const expected = Buffer.from(hmac(key, body));
      const given = Buffer.from(signature);
      return expected.length === given.length && crypto.timingSafeEqual(expected, given);
    };
    // A key rotated since the link was made: read the key once more before calling the state forged.
    if (!matches(await this.key()) && !matches(await this.key(true))) throw forged();
    let payload: StatePayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as StatePayload;
    } catch {
      throw forged();
    }
    if (
      payload?.v !== 1 ||
      typeof payload.t !== 'string' ||
      !isTenantId(payload.t) ||
      typeof payload.n !== 'string' ||
      !/^[A-Za-z0-9_-]{16,64}$/.test(payload.n) ||
      !Number.isSafeInteger(payload.e) ||
      payload.e <= 0 ||
      payload.e * 1000 > MAX_DATE_MS
    ) {
      throw forged();
    }
    if (payload.e * 1000 <= this.now()) {
      throw new ConsentError(
        400,
        'state-expired',
        'Link expired',
        `This consent link expired at ${new Date(payload.e * 1000).toISOString()}. Nothing was recorded. ` +
          `Ask your service provider for a new link (they make one with /api/consent?tenant=${payload.t} or \`defender-relay tenants invite ${payload.t}\`).`,
      );
    }
    return payload;
  }

  /** A verified domain's tenant id, from the tenant's OpenID metadata (as Entra ID publishes it). */
  private async resolveDomain(domain: string): Promise<string> {
    const url = `${this.options.authorityHost}/${encodeURIComponent(domain)}/v2.0/.well-known/openid-configuration`;
    let response: Response;
    try {
      response = await this.fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch {
      throw new ConsentError(
        502,
        'entra-unreachable',
        'Entra ID could not be reached',
        `The relay could not look up the tenant of ${domain}. Try again, or use the tenant id instead of the domain.`,
      );
    }
    const metadata = (await response.json().catch(() => undefined)) as
      { token_endpoint?: string } | undefined;
    const tenantId = /\/([0-9a-f-]{36})\//i.exec(metadata?.token_endpoint ?? '')?.[1]?.toLowerCase();
    if (!response.ok || !tenantId || !isTenantId(tenantId)) {
      throw new ConsentError(
        404,
        'tenant-unknown',
        'Unknown tenant',
        `No Entra tenant has the domain ${domain} in this cloud. Check the spelling, or use the tenant id.`,
      );
    }
    return tenantId;
  }
}

function hmac(key: Buffer, data: string): string {
  return crypto.createHmac('sha256', key).update(data).digest('base64url');
}
