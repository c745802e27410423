/**
 * The relay as the CLI builds it: the same composition root (src/relay.ts), with storage and Key Vault
 * reached as the person or pipeline running the command (src/auth/operator-credential.ts) instead of as
 * the Function App's managed identity, which exists only inside Azure.
 */
import { createRelay, type Relay, type RelayOptions } from '../relay';
import type { RelayConfig } from '../config/settings';
import { OPERATOR_CALLER, operatorCredential } from '../auth/operator-credential';

export function createCliRelay(config: RelayConfig, options: RelayOptions = {}): Relay {
  return createRelay(config, {
    resourceCredential: {
      credential: operatorCredential({
        authorityHost: config.endpoints.authorityHost,
        managedIdentityClientId: config.managedIdentityClientId,
      }),
      caller: OPERATOR_CALLER,
    },
    ...options,
  });
}
