/**
 * Every HTTP function of the app, in one list: src/index.ts registers them from it, and the property-based
 * test (test/integration/http-fuzz.test.ts) throws random input at each. A new HTTP function goes here.
 *
 * Every method is registered, so a wrong one reaches the handler and gets 405 problem JSON with `Allow`
 * (the host would answer a bare 404); `methods` is what the handler accepts.
 */
import type { HttpHandler } from '@azure/functions';
import type { Relay } from '../relay';
import { syncHttpHandler } from './sync-http';
import { consentCallbackHandler, consentStartHandler } from './consent';
import { healthDeepHandler, healthHandler } from './health';
import { huntingHandler, incidentUpdateHandler } from './user-actions';
import { inboundWebhookHandler } from './inbound-webhook';

export interface HttpFunctionDefinition {
  name: string;
  route: string;
  /** Methods the handler accepts (others: 405). */
  methods: string[];
  authLevel: 'anonymous' | 'function' | 'admin';
  handler(relay: Relay): HttpHandler;
}

export const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export const HTTP_FUNCTIONS: HttpFunctionDefinition[] = [
  { name: 'syncNow', route: 'sync', methods: ['POST'], authLevel: 'function', handler: syncHttpHandler },
  // Admin-consent onboarding: issuing a link is the operator's act (function key, or `tenants invite`);
  // the callback is anonymous (the customer's administrator comes back from Entra ID), and records a
  // tenant only with a state this relay issued and a consent proven by a token for that tenant.
  {
    name: 'consentStart',
    route: 'consent',
    methods: ['GET'],
    authLevel: 'function',
    handler: consentStartHandler,
  },
  {
    name: 'consentCallback',
    route: 'consent/callback',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: consentCallbackHandler,
  },
  // User context: the caller's bearer token is the authentication.
  { name: 'hunting', route: 'hunting', methods: ['POST'], authLevel: 'anonymous', handler: huntingHandler },
  {
    name: 'incidentUpdate',
    route: 'incidents/{id}',
    methods: ['PATCH'],
    authLevel: 'anonymous',
    handler: incidentUpdateHandler,
  },
  // Inbound webhooks: the Standard Webhooks signature is the authentication.
  {
    name: 'inboundIncidentUpdates',
    route: 'webhooks/incident-updates/{sender?}',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: inboundWebhookHandler,
  },
  {
    name: 'health',
    route: 'health',
    methods: ['GET', 'HEAD'],
    authLevel: 'anonymous',
    handler: () => healthHandler(),
  },
  {
    name: 'healthDeep',
    route: 'health/deep',
    methods: ['GET'],
    authLevel: 'function',
    handler: healthDeepHandler,
  },
];
