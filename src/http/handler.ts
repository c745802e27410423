/**
 * The wrapper every HTTP function uses. It checks the method (405 + `Allow`), runs the handler, and turns
 * an `HttpProblem` into problem JSON; any other error becomes a 500 problem without details (the log line
 * carries only the error's name and a redacted message, never a stack, token or secret).
 *
 *   export const myHandler = (relay: Relay) =>
 *     httpFunction({ methods: ['POST'] }, async (request, context) => {
 *       const body = await readJsonBody(request, mySchema);
 *       return jsonResponse(200, await doIt(body));
 *     });
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { HttpProblem, problemResponse } from './problem';
import { requireMethod } from './request';
import { redact } from './redact';

export interface HttpFunctionOptions {
  /** Allowed methods, upper case. Others get 405 with `Allow`. */
  methods: readonly string[];
}

export function httpFunction(
  options: HttpFunctionOptions,
  handle: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): HttpHandler {
  return async (request, context) => {
    const instance = instanceOf(request);
    try {
      requireMethod(request, options.methods);
      return await handle(request, context);
    } catch (error) {
      if (error instanceof HttpProblem) {
        if (error.status >= 500 || error.logDetail)
          context.warn(
            `${context.functionName}: ${error.status} ${redact(error.detail)}${error.logDetail ? ` Cause: ${redact(error.logDetail)}` : ''}`,
          );
        return problemResponse(error, instance);
      }
      context.error(`${context.functionName}: unexpected ${describeUnexpected(error)}`);
      return problemResponse(
        new HttpProblem(500, 'The relay could not handle this request. The error is in its log.', {
          code: 'internal-error',
          extensions: { invocationId: context.invocationId },
        }),
        instance,
      );
    }
  };
}

function instanceOf(request: HttpRequest): string | undefined {
  try {
    return new URL(request.url).pathname;
  } catch {
    return undefined;
  }
}

function describeUnexpected(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${redact(error.message)}`;
  return 'non-error thrown';
}
