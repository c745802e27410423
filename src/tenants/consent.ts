/**
 * Admin-consent onboarding (partner context). `start` turns a customer tenant (id or verified domain) into
 * the admin-consent URL of this app, `${authorityHost}/${tenant}/adminconsent?client_id&redirect_uri&state`,
 * with a signed, expiring, single-use `state`; `complete` checks what Entra ID sends back to the redirect
 * URI (`admin_consent=True`, `tenant`, `state`) and records the tenant in the registry.
 *
 * state = base64url(JSON payload) "." base64url(HMAC-SHA256(payload part, key)); the payload holds the
 * tenant id, a random nonce and the expiry. The key is a Key Vault secret (CONSENT_STATE_KEY_SECRET_NAME);
 * a signature that does not verify is checked once more against a freshly read key (rotation). A nonce is
 * consumed in the tenants table when the consent is recorded, so a `state` works once.
 *
 * Nothing here knows HTTP: failures are `ConsentError`s with a status, a code and a message for people.
 */
import * as crypto from 'node:crypto';
import type { SecretSource } from '../auth/key-vault-secrets';
import { isTenantId, type TenantEntry, type TenantRegistry } from './tenant-registry';

export interface ConsentOptions {
  clientId: string;
  authorityHost: string;
  /** The redirect URI registered on the app registration; undefined: onboarding is off. */
  redirectUri?: string;
  stateLifetimeMs: number;
  keySecretName: string;
  secrets?: SecretSource;
  registry: TenantRegistry;
  now?: () => number;
  fetch?: typeof fetch;
}

export class ConsentError extends Error {
  constructor(
    readonly status: number,
    /** Machine-readable code (the problem type ends with it). */
    readonly code: string,
    readonly title: string,
    /** For the person in front of the browser; never holds a secret. */
    readonly detail: string,
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
}

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

  /** Checks the redirect from Entra ID and records the tenant. Throws ConsentError; records nothing then. */
  async complete(query: URLSearchParams): Promise<ConsentResult> {
    this.requireEnabled();
    const error = query.get('error');
    if (error) {
      const description = (query.get('error_description') ?? '').split(/\r?\n/)[0]!.slice(0, 300);
      const denied = /denied/i.test(error);
      throw new ConsentError(
        denied ? 403 : 400,
        denied ? 'consent-denied' : 'consent-failed',
        denied ? 'Consent was not granted' : 'Consent failed',
        `${denied ? 'The administrator declined the permissions' : `Entra ID answered "${error.slice(0, 60)}"`}${description ? ` (${description})` : ''}. ` +
          'Nothing was recorded. To try again, open the consent link again and accept as an administrator of the customer tenant.',
      );
    }
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
    const known = await this.options.registry.get(tenantId);
    const fresh = await this.options.registry.consumeNonce(payload.n, {
      tenantId,
      expiresAt: new Date(payload.e * 1000).toISOString(),
    });
    if (!fresh) {
      throw new ConsentError(
        409,
        'state-used',
        'Link already used',
        'This consent answer was already processed once; a link works only once. Nothing new was recorded. ' +
          'Open /api/consent?tenant=<tenant> again for a new link if needed.',
      );
    }
    const tenant = await this.options.registry.add(tenantId, {
      onboardedBy: 'admin-consent',
      consentId: payload.n,
    });
    return { tenantId, wasKnown: !!known && known.source !== 'setting', tenant };
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
        `The consent signing key (Key Vault secret '${name}') is shorter than ${MIN_KEY_LENGTH} characters: its operator must store a long random value in it.`,
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
          'Nothing was recorded. Start again from the consent link /api/consent?tenant=<tenant>.',
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
      typeof payload.e !== 'number'
    ) {
      throw forged();
    }
    if (payload.e * 1000 <= this.now()) {
      throw new ConsentError(
        400,
        'state-expired',
        'Link expired',
        `This consent link expired at ${new Date(payload.e * 1000).toISOString()}. Nothing was recorded. ` +
          `Open /api/consent?tenant=${payload.t} again for a new link.`,
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
