/**
 * How the app registration proves itself to Entra ID in the client-credentials grant: one of three
 * strategies, each turned into MSAL `auth` options.
 *
 * - `secret`: a client secret read from Key Vault.
 * - `certificate`: a certificate with private key read from Key Vault (PEM or base64 PKCS#12, see
 *   certificate.ts); MSAL signs the client assertion and sends `x5t#S256` and `x5c`.
 * - `federated`: no stored secret. A user-assigned managed identity is a federated identity credential
 *   of the app registration; MSAL's `clientAssertion` callback returns a managed-identity token for the
 *   federation audience (`api://AzureADTokenExchange`, US Gov `api://AzureADTokenExchangeUSGov`). Works
 *   for the home tenant and for every customer tenant of a multi-tenant app (same cloud).
 *
 * Secret and certificate are re-read from Key Vault once when Entra ID rejects them (rotation).
 */
import * as crypto from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import type { NodeAuthOptions } from '@azure/msal-node';
import { aadstsCodes, RelayAuthError } from './errors';
import type { SecretSource } from './key-vault-secrets';
import { parseCertificate } from './certificate';

export type CredentialKind = 'secret' | 'certificate' | 'federated';

export interface MsalCredential {
  /** Changes when the credential changes (a rotated secret): a new MSAL client is built for it. */
  key: string;
  auth: Pick<NodeAuthOptions, 'clientSecret' | 'clientCertificate' | 'clientAssertion'>;
}

export interface ClientCredentialSource {
  readonly kind: CredentialKind;
  current(): Promise<MsalCredential>;
  /** Reads the credential again now; undefined when there is nothing to re-read. */
  refresh(): Promise<MsalCredential | undefined>;
  /** Whether Entra ID rejected this credential in a way a re-read can fix (rotation). */
  isRejected(error: unknown): boolean;
}

const fingerprint = (value: string) => crypto.createHash('sha256').update(value).digest('base64url');

export class SecretCredential implements ClientCredentialSource {
  readonly kind = 'secret';
  constructor(
    private readonly secrets: SecretSource,
    private readonly secretName: string,
  ) {}

  async current(): Promise<MsalCredential> {
    return this.toMsal(await this.secrets.get(this.secretName));
  }

  async refresh(): Promise<MsalCredential> {
    return this.toMsal(await this.secrets.refresh(this.secretName));
  }

  isRejected(error: unknown): boolean {
    // Invalid secret, expired secret.
    return aadstsCodes(error).some((c) => c === 7000215 || c === 7000222);
  }

  private toMsal(secret: string): MsalCredential {
    return { key: `secret:${fingerprint(secret)}`, auth: { clientSecret: secret } };
  }
}

export class CertificateCredential implements ClientCredentialSource {
  readonly kind = 'certificate';
  private parsed?: { raw: string; credential: MsalCredential };

  constructor(
    private readonly secrets: SecretSource,
    private readonly secretName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async current(): Promise<MsalCredential> {
    return this.toMsal(await this.secrets.get(this.secretName));
  }

  async refresh(): Promise<MsalCredential> {
    return this.toMsal(await this.secrets.refresh(this.secretName));
  }

  isRejected(error: unknown): boolean {
    // Unknown key (certificate not registered, e.g. renewed in Key Vault first), invalid signature.
    return aadstsCodes(error).some((c) => c === 700027 || c === 7000274);
  }

  private toMsal(raw: string): MsalCredential {
    if (this.parsed?.raw === raw) return this.parsed.credential;
    const cert = parseCertificate(raw, this.secretName);
    if (cert.notAfter.getTime() < this.now()) {
      throw new RelayAuthError(
        `The certificate in Key Vault secret '${this.secretName}' (${cert.subject}) expired on ${cert.notAfter.toISOString()}: ` +
          'renew it in Key Vault and upload the new public certificate to the app registration.',
        'certificate_expired',
      );
    }
    const credential: MsalCredential = {
      key: `certificate:${cert.thumbprintSha256}`,
      auth: {
        clientCertificate: {
          thumbprintSha256: cert.thumbprintSha256,
          privateKey: cert.privateKeyPem,
          x5c: cert.chainPem,
        },
      },
    };
    this.parsed = { raw, credential };
    return credential;
  }
}

export class FederatedCredential implements ClientCredentialSource {
  readonly kind = 'federated';
  private readonly credential: MsalCredential;

  /**
   * @param identity the user-assigned managed identity that is a federated credential of the app
   * @param audience the federation audience; asked for as a resource (no `/.default`)
   */
  constructor(identity: TokenCredential, audience: string) {
    this.credential = {
      key: 'federated',
      auth: {
        clientAssertion: async () => {
          let token;
          try {
            token = await identity.getToken(audience);
          } catch (error) {
            throw new RelayAuthError(
              `The managed identity (MANAGED_IDENTITY_CLIENT_ID) gave no token for the federation audience ${audience}: ` +
                `check that the identity is assigned to the Function App (${(error as Error)?.name ?? 'error'}).`,
              'managed_identity_unavailable',
              true,
            );
          }
          if (!token?.token) {
            throw new RelayAuthError(
              `The managed identity returned no token for ${audience}.`,
              'managed_identity_unavailable',
              true,
            );
          }
          return token.token;
        },
      },
    };
  }

  current(): Promise<MsalCredential> {
    return Promise.resolve(this.credential);
  }

  refresh(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  isRejected(): boolean {
    return false;
  }
}
