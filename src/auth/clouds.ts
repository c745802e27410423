/**
 * The Microsoft clouds the relay can talk to and their hosts. One setting (DEFENDER_CLOUD) picks the set;
 * each endpoint can still be overridden on its own (see src/config/settings.ts).
 * Sources: "Access the Microsoft 365 Defender APIs", "Microsoft Defender XDR for US Government",
 * "National cloud deployments" (Microsoft Graph).
 */
export type CloudName = 'public' | 'gcc' | 'gcchigh' | 'dod';

export interface CloudEndpoints {
  authorityHost: string;
  graphBaseUrl: string;
  /** Resource (audience) of Graph tokens; the scope is `${resource}/.default`. */
  graphResource: string;
  legacyBaseUrl: string;
  legacyResource: string;
  /** Audience of the token a managed identity presents as a federated credential. */
  federationAudience: string;
  /** Host of the Defender portal, for links in messages. */
  portalUrl: string;
}

export const CLOUDS: Record<CloudName, CloudEndpoints> = {
  public: {
    authorityHost: 'https://login.microsoftonline.com',
    graphBaseUrl: 'https://graph.microsoft.com',
    graphResource: 'https://graph.microsoft.com',
    legacyBaseUrl: 'https://api.security.microsoft.com',
    legacyResource: 'https://api.security.microsoft.com',
    federationAudience: 'api://AzureADTokenExchange',
    portalUrl: 'https://security.microsoft.com',
  },
  gcc: {
    authorityHost: 'https://login.microsoftonline.com',
    graphBaseUrl: 'https://graph.microsoft.com',
    graphResource: 'https://graph.microsoft.com',
    legacyBaseUrl: 'https://api-gcc.security.microsoft.us',
    legacyResource: 'https://api-gcc.security.microsoft.us',
    federationAudience: 'api://AzureADTokenExchange',
    portalUrl: 'https://security.microsoft.com',
  },
  gcchigh: {
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://graph.microsoft.us',
    graphResource: 'https://graph.microsoft.us',
    legacyBaseUrl: 'https://api-gov.security.microsoft.us',
    legacyResource: 'https://api-gov.security.microsoft.us',
    federationAudience: 'api://AzureADTokenExchangeUSGov',
    portalUrl: 'https://security.microsoft.us',
  },
  dod: {
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://dod-graph.microsoft.us',
    graphResource: 'https://dod-graph.microsoft.us',
    legacyBaseUrl: 'https://api-gov.security.microsoft.us',
    legacyResource: 'https://api-gov.security.microsoft.us',
    federationAudience: 'api://AzureADTokenExchangeUSGov',
    portalUrl: 'https://security.apps.mil',
  },
};
