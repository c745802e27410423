/** One Azurite for the whole suite; tests isolate themselves with unique queue, table and container names. */
import { startAzurite, type AzuriteHandle } from '../../tools/azurite';

declare global {
  var __AZURITE__: AzuriteHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error(
      'Run the suite with `npm test`: it trusts the simulator CA (tools/with-simulator-ca.mjs).',
    );
  }
  const azurite = await startAzurite();
  globalThis.__AZURITE__ = azurite;
  process.env.TEST_AZURITE_CONNECTION_STRING = azurite.connectionString;
}
