/**
 * Domain errors → RFC 9457 problems for the user-context and inbound functions. Messages of these errors
 * are written for people and hold no secret; anything unknown is rethrown (the wrapper makes it a 500
 * without details).
 */
import { UserTokenError } from '../auth/user-token';
import { RelayAuthError } from '../auth/errors';
import { BudgetExhaustedError, DefenderApiError } from '../defender/errors';
import { UpdateRefusedError } from '../defender/actions';
import { HttpProblem } from '../http';

export function toProblem(error: unknown, context: 'user' | 'app' = 'app'): unknown {
  if (error instanceof HttpProblem) return error;
  if (error instanceof UserTokenError) {
    return new HttpProblem(error.status, error.message, {
      code: error.code.replace(/_/g, '-'),
      headers:
        error.status === 401
          ? { 'www-authenticate': `Bearer error="invalid_token", error_description="${error.code}"` }
          : undefined,
    });
  }
  if (error instanceof BudgetExhaustedError) {
    return new HttpProblem(429, 'Defender is throttling this tenant: try again in a minute.', {
      code: 'throttled',
      headers: { 'retry-after': '60' },
    });
  }
  if (error instanceof DefenderApiError) return defenderProblem(error, context);
  if (error instanceof RelayAuthError) {
    if (error.code === 'consent_missing')
      return new HttpProblem(403, error.message, { code: 'consent-missing' });
    // Key Vault, the managed identity or the app's credential: the operator's business. The caller learns
    // that it failed and when to try again; the cause (which vault, which secret) goes to the log.
    return new HttpProblem(
      503,
      'The relay could not get a Defender token right now. Try again later; its operator finds the cause in its log.',
      { code: 'token-unavailable', headers: { 'retry-after': '60' }, logDetail: error.message },
    );
  }
  return error;
}

function defenderProblem(error: DefenderApiError, context: 'user' | 'app'): HttpProblem {
  const code = error.code.replace(/_/g, '-');
  if (error instanceof UpdateRefusedError) {
    return new HttpProblem(422, error.message, {
      code: 'validation-error',
      errors: error.issues.map((i) => ({ field: i.field, message: i.message })),
    });
  }
  switch (error.code) {
    case 'invalid_incident_id':
      return new HttpProblem(400, error.message, {
        code: 'validation-error',
        errors: [{ field: 'id', message: 'is not a Defender incident id (digits)' }],
      });
    case 'timespan_unsupported':
      return new HttpProblem(422, error.message, {
        code: 'validation-error',
        errors: [
          { field: 'timespan', message: 'is not taken by the legacy API (it queries the past 30 days)' },
        ],
      });
    case 'hunting_row_cap':
    case 'hunting_query_invalid':
      return new HttpProblem(422, error.message, {
        code,
        errors: [{ field: 'query', message: error.message }],
      });
    case 'hunting_timeout':
      return new HttpProblem(504, error.message, { code });
    default:
  }
  if (error.status === 404) {
    return new HttpProblem(404, 'Defender has no such incident in this tenant (or it is not visible yet).', {
      code: 'incident-not-found',
    });
  }
  if (error.status === 429 || error.code === 'throttled') {
    return new HttpProblem(429, 'Defender is throttling this tenant: try again in a minute.', {
      code: 'throttled',
      headers: { 'retry-after': '60' },
    });
  }
  if (error.status === 403 || error.status === 401) {
    return new HttpProblem(
      403,
      context === 'user'
        ? 'Defender refused this action for the calling user: the user needs a Defender role that allows it, and the app its delegated permission (SecurityIncident.ReadWrite.All / ThreatHunting.Read.All on Graph, Incident.ReadWrite.All / AdvancedHunting.Read.All on the legacy API) with consent.'
        : error.message,
      { code: 'defender-forbidden' },
    );
  }
  if (error.status === 400 || error.status === 422) {
    return new HttpProblem(422, `Defender rejected the request: ${error.message}`, {
      code: 'defender-rejected',
    });
  }
  return new HttpProblem(502, `Defender could not be used right now: ${error.message}`, {
    code: 'defender-unavailable',
  });
}
