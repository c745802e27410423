/**
 * The simulated Entra ID directory: tenants, app registrations (secrets, certificates, federated
 * identities), the consent grants of each app in each tenant and its service principals there. The token
 * endpoint, admin consent and the APIs read it; the `Simulator` administration methods write it.
 */
import * as crypto from 'node:crypto';
import type { AppRegistration, DefenderApi, FederatedIdentity, RegisterAppInput } from './types';
import { recordSecret, type Rng } from './util';

export interface TenantRecord {
  tenantId: string;
  displayName: string;
  domain: string;
}

export interface CertificateRecord {
  x5t: string;
  x5tS256: string;
  publicKey: crypto.KeyObject;
}

export interface AppRecord {
  clientId: string;
  homeTenantId: string;
  displayName: string;
  secrets: string[];
  multiTenant: boolean;
  certificates: CertificateRecord[];
  federatedIdentities: FederatedIdentity[];
  requiredPermissions: { graph: string[]; legacy: string[] };
}

export class Directory {
  readonly tenants = new Map<string, TenantRecord>();
  readonly apps = new Map<string, AppRecord>();
  /** `${clientId}|${tenantId}` → roles per API; presence = the app's service principal exists there. */
  readonly grants = new Map<string, { graph: Set<string>; legacy: Set<string> }>();
  private readonly spIds = new Map<string, string>();

  constructor(private readonly rng: Rng) {}

  addTenant(t: { tenantId?: string; displayName?: string; domain?: string } = {}): string {
    const n = this.tenants.size;
    const tenantId = t.tenantId ?? this.rng.guid();
    const name = n === 0 ? 'relayhost' : `contoso${n}`;
    this.tenants.set(tenantId, {
      tenantId,
      displayName: t.displayName ?? `Contoso ${n}`,
      domain: t.domain ?? `${name}.onmicrosoft.com`,
    });
    return tenantId;
  }

  registerApp(a: RegisterAppInput): AppRegistration {
    if (!this.tenants.has(a.homeTenantId))
      throw new Error(`registerApp: unknown home tenant ${a.homeTenantId}`);
    const clientId = a.clientId ?? this.rng.guid();
    const secrets = a.secrets ?? [
      `${this.rng.hex(3)}8Q~${crypto.randomBytes(27).toString('base64url').slice(0, 36)}`,
    ];
    secrets.forEach(recordSecret);
    const app: AppRecord = {
      clientId,
      homeTenantId: a.homeTenantId,
      displayName: a.displayName ?? 'Defender Relay',
      secrets: [...secrets],
      multiTenant: a.multiTenant ?? false,
      certificates: (a.certificates ?? []).map((pem) => {
        const x509 = new crypto.X509Certificate(pem);
        const der = x509.raw;
        return {
          x5t: crypto.createHash('sha1').update(der).digest('base64url'),
          x5tS256: crypto.createHash('sha256').update(der).digest('base64url'),
          publicKey: x509.publicKey,
        };
      }),
      federatedIdentities: [...(a.federatedIdentities ?? [])],
      requiredPermissions: {
        graph: [...(a.requiredPermissions?.graph ?? [])],
        legacy: [...(a.requiredPermissions?.legacy ?? [])],
      },
    };
    this.apps.set(clientId, app);
    return this.registration(app);
  }

  private registration(app: AppRecord): AppRegistration {
    return {
      clientId: app.clientId,
      homeTenantId: app.homeTenantId,
      displayName: app.displayName,
      secret: app.secrets[0],
      secrets: [...app.secrets],
      multiTenant: app.multiTenant,
    };
  }

  private app(clientId: string): AppRecord {
    const app = this.apps.get(clientId);
    if (!app) throw new Error(`unknown app ${clientId}`);
    return app;
  }

  rotateAppSecret(clientId: string, newSecret: string, opts: { keepOld?: boolean } = {}): void {
    const app = this.app(clientId);
    recordSecret(newSecret);
    app.secrets = opts.keepOld ? [newSecret, ...app.secrets] : [newSecret];
  }

  grantPermissions(clientId: string, tenantId: string, api: DefenderApi, roles: string[]): void {
    const app = this.app(clientId);
    if (!this.tenants.has(tenantId)) throw new Error(`grantPermissions: unknown tenant ${tenantId}`);
    if (!app.multiTenant && tenantId !== app.homeTenantId) {
      throw new Error(
        `grantPermissions: app ${clientId} is single-tenant; register it with multiTenant: true to consent it in ${tenantId}`,
      );
    }
    const key = `${clientId}|${tenantId}`;
    const g = this.grants.get(key) ?? { graph: new Set<string>(), legacy: new Set<string>() };
    for (const r of roles) g[api].add(r);
    this.grants.set(key, g);
  }

  revokeConsent(clientId: string, tenantId: string): void {
    this.grants.delete(`${clientId}|${tenantId}`);
  }

  servicePrincipalId(clientId: string, tenantId: string): string {
    const key = `${clientId}|${tenantId}`;
    let id = this.spIds.get(key);
    if (!id) {
      id = crypto.randomUUID();
      this.spIds.set(key, id);
    }
    return id;
  }

  resolveTenant(segment: string): TenantRecord | undefined {
    const s = segment.toLowerCase();
    for (const t of this.tenants.values()) {
      if (t.tenantId.toLowerCase() === s || t.domain.toLowerCase() === s) return t;
    }
    return undefined;
  }
}
