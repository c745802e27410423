/**
 * HTTP functions that act for a person (user context, on-behalf-of): `POST /api/hunting` and
 * `PATCH /api/incidents/{id}`. Each validates the caller's bearer token, then its input, then calls
 * Defender with a token obtained on the user's behalf, in the user's tenant. Both act on Graph
 * (`runHuntingQuery`, `PATCH /security/incidents/{id}` and comments) whatever API the tenant's sync reads;
 * `api: "legacy"` asks for the legacy API explicitly (until it is retired on 2027-02-01).
 */
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { UserIdentity } from '../auth/user-token';
import { incidentUpdateSchemaFor } from '../defender/actions';
import { ACTIONS_API } from '../defender/legacy-retirement';
import type { Relay } from '../relay';
import { HttpProblem, httpFunction, jsonResponse, readJsonBody, validate, validateQuery } from '../http';
import { toProblem } from './problems';

type UserRelay = Pick<Relay, 'user' | 'actions' | 'config'>;

async function authenticate(relay: UserRelay, request: HttpRequest): Promise<UserIdentity> {
  try {
    return await relay.user.validator.validate(request.headers.get('authorization'));
  } catch (error) {
    throw toProblem(error, 'user');
  }
}

const apiChoice = z.enum(['graph', 'legacy']);

/** ISO 8601 duration (Graph's Timespan), e.g. P7D or PT12H. */
const isoDuration = z
  .string()
  .trim()
  .regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/, {
    message: 'is not an ISO 8601 duration (e.g. P7D)',
  });

export const huntingRequestSchema = z
  .object({
    query: z.string().trim().min(1, { message: 'is required' }).max(30_000),
    /** Graph only: how far back the query looks; refused on the legacy API, which has none. */
    timespan: isoDuration.optional(),
    /** Which API runs it; default Graph (whatever the tenant's sync API). */
    api: apiChoice.optional(),
  })
  .strict();

export function huntingHandler(relay: UserRelay) {
  return httpFunction({ methods: ['POST'] }, async (request, context) => {
    const user = await authenticate(relay, request);
    const body = await readJsonBody(request, huntingRequestSchema);
    const api = body.api ?? ACTIONS_API;
    if (api === 'legacy' && body.timespan !== undefined) {
      throw new HttpProblem(
        422,
        'The legacy advanced hunting API takes no timespan (it always queries the past 30 days): leave timespan out, filter on Timestamp in the query, or use the Graph API ("api": "graph").',
        {
          code: 'validation-error',
          errors: [
            { field: 'timespan', message: 'is not taken by the legacy API (it queries the past 30 days)' },
          ],
        },
      );
    }
    try {
      const result = await relay
        .actions(relay.user.obo.forUser(user))
        .runHunting(user.tenantId, api, body.query, body.timespan);
      context.log(
        `hunting: user ${user.objectId} in tenant ${user.tenantId} ran a query on ${api}: ${result.rowCount} rows`,
      );
      return jsonResponse(200, result);
    } catch (error) {
      throw logged(context, 'hunting', toProblem(error, 'user'));
    }
  });
}

const updateQuerySchema = z.object({ api: apiChoice.optional() });
const idSchema = z.string().regex(/^\d{1,19}$/, { message: 'is not a Defender incident id (digits)' });

export function incidentUpdateHandler(relay: UserRelay) {
  return httpFunction({ methods: ['PATCH'] }, async (request, context) => {
    const user = await authenticate(relay, request);
    const id = validate(idSchema, request.params.id ?? '', { status: 400, prefix: 'id' });
    const { api: apiParam } = validateQuery(request, updateQuerySchema.loose());
    const api = apiParam ?? ACTIONS_API;
    const update = await readJsonBody(request, incidentUpdateSchemaFor(api));
    try {
      const result = await relay
        .actions(relay.user.obo.forUser(user))
        .updateIncident(user.tenantId, api, id, update);
      context.log(
        `incident update: user ${user.objectId} in tenant ${user.tenantId} updated incident ${id} on ${api} (${Object.keys(update).join(', ')})`,
      );
      return jsonResponse(200, result);
    } catch (error) {
      throw logged(context, 'incident update', toProblem(error, 'user'));
    }
  });
}

function logged(context: InvocationContext, what: string, problem: unknown): unknown {
  if (problem instanceof HttpProblem)
    context.warn(`${what}: ${problem.status} ${problem.code}: ${problem.detail}`);
  return problem;
}
