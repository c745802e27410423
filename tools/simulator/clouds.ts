/** The audiences (resources) each simulated cloud's APIs accept, and every resource the token endpoint knows. */
import type { DefenderApi, SimulatorCloud } from './types';

export const CLOUD_RESOURCES: Record<SimulatorCloud, { graph: string; legacy: string; exchange: string }> = {
  public: {
    graph: 'https://graph.microsoft.com',
    legacy: 'https://api.security.microsoft.com',
    exchange: 'api://AzureADTokenExchange',
  },
  gcc: {
    graph: 'https://graph.microsoft.com',
    legacy: 'https://api-gcc.security.microsoft.us',
    exchange: 'api://AzureADTokenExchange',
  },
  gcchigh: {
    graph: 'https://graph.microsoft.us',
    legacy: 'https://api-gov.security.microsoft.us',
    exchange: 'api://AzureADTokenExchangeUSGov',
  },
  dod: {
    graph: 'https://dod-graph.microsoft.us',
    legacy: 'https://api-gov.security.microsoft.us',
    exchange: 'api://AzureADTokenExchangeUSGov',
  },
};
export const KEY_VAULT_RESOURCE = 'https://vault.localhost';
/** Every resource the token endpoint knows, with the API whose grants give roles. */
export const KNOWN_RESOURCES: Record<string, DefenderApi | 'vault' | 'exchange'> = {
  'https://graph.microsoft.com': 'graph',
  'https://graph.microsoft.us': 'graph',
  'https://dod-graph.microsoft.us': 'graph',
  'https://api.security.microsoft.com': 'legacy',
  'https://api-gcc.security.microsoft.us': 'legacy',
  'https://api-gov.security.microsoft.us': 'legacy',
  [KEY_VAULT_RESOURCE]: 'vault',
};
