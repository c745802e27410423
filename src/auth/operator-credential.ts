/**
 * Who the CLI is when it reaches the relay's storage and Key Vault from a person's machine: that person,
 * signed in the way Azure tools are. Inside the Function App the managed identity stays the only
 * credential (src/relay.ts builds it; nothing here is used there).
 *
 * The chain, in order (each tried only when the one before is unavailable; checked against
 * @azure/identity 4.13 by running it: without `az`/`azd` each says "could not be found" and the chain
 * reports every reason in one AggregateAuthenticationError):
 *
 * 1. `EnvironmentCredential`: `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` (or
 *    `AZURE_CLIENT_CERTIFICATE_PATH`, or `AZURE_USERNAME`/`AZURE_PASSWORD`): a pipeline or a service
 *    principal. `AZURE_AUTHORITY_HOST` wins; otherwise the relay's own cloud (`DEFENDER_CLOUD`).
 * 2. `AzureCliCredential`: `az login`.
 * 3. `AzureDeveloperCliCredential`: `azd auth login`.
 * 4. The managed identity, last and only where one exists (`IDENTITY_ENDPOINT` set: an App Service or
 *    Functions console, or the simulator).
 *
 * The person needs the data roles the relay's identity has (docs/deploy.md, "Operating from your
 * machine"); Bicep grants them to `operatorPrincipalId`.
 */
import {
  AzureCliCredential,
  AzureDeveloperCliCredential,
  ChainedTokenCredential,
  EnvironmentCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { isMicrosoftAuthorityHost } from './app-token';
import type { KeyVaultCaller } from './key-vault-secrets';

/** The operator in Key Vault's errors: who they are and how to sign in. */
export const OPERATOR_CALLER: KeyVaultCaller = {
  who: 'You (the account the CLI signed in with: AZURE_CLIENT_ID, az login or azd auth login)',
  noToken:
    'The CLI could not sign in to Azure: run az login (or azd auth login), or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET; then give that account the roles in docs/deploy.md ("Operating from your machine").',
};

export interface OperatorCredentialOptions {
  /** The relay's Entra authority host (its cloud), used when AZURE_AUTHORITY_HOST is not set. */
  authorityHost: string;
  /** Client id of a user-assigned managed identity (MANAGED_IDENTITY_CLIENT_ID), for the last link. */
  managedIdentityClientId?: string;
  env?: NodeJS.ProcessEnv;
}

/** The credential chain of a person or pipeline running the CLI, as above. */
export function operatorCredential(options: OperatorCredentialOptions): TokenCredential {
  const env = options.env ?? process.env;
  const authorityHost = env.AZURE_AUTHORITY_HOST || options.authorityHost;
  const chain: TokenCredential[] = [
    new EnvironmentCredential({
      authorityHost,
      // A host MSAL does not know (a private cloud, the simulator) is taken as given, as the relay's own
      // MSAL clients declare it (src/auth/app-token.ts).
      disableInstanceDiscovery: !isMicrosoftAuthorityHost(authorityHost),
    }),
    new AzureCliCredential(),
    new AzureDeveloperCliCredential(),
  ];
  if (env.IDENTITY_ENDPOINT)
    chain.push(
      options.managedIdentityClientId
        ? new ManagedIdentityCredential({ clientId: options.managedIdentityClientId })
        : new ManagedIdentityCredential(),
    );
  return new ChainedTokenCredential(...chain);
}
