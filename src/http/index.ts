/**
 * Shared pieces of HTTP functions. Use `httpFunction` to wrap a handler; inside it read input with
 * `readJsonBody` / `validateQuery` / `validate` and throw `HttpProblem` for a 4xx. See docs/http-api.md.
 */
export {
  HttpProblem,
  PROBLEM_CONTENT_TYPE,
  jsonResponse,
  problemResponse,
  problemType,
  validationProblem,
  type FieldError,
  type ProblemDetails,
} from './problem';
export {
  DEFAULT_MAX_BODY_BYTES,
  fieldErrors,
  parseJson,
  readBody,
  readJsonBody,
  requireMethod,
  validate,
  validateQuery,
} from './request';
export { httpFunction, type HttpFunctionOptions } from './handler';
export { redact } from './redact';
