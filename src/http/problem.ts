/**
 * RFC 9457 problem details for every HTTP function: `type`, `title`, `status`, `detail`, `instance`, and
 * `errors: [{ field, message }]` naming each bad field. Served as `application/problem+json`.
 *
 * Throw an `HttpProblem` anywhere under a handler wrapped by `httpFunction` (src/http/handler.ts) and it
 * becomes the response; anything else becomes a 500 problem without details.
 *
 * Problem `type` URIs are `urn:defender-relay:problem:<code>`; docs/http-api.md lists the codes.
 */
import type { HttpResponseInit } from '@azure/functions';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldError {
  /** Where the bad value is: `status`, `tags[2]`, `query.deep`, `header.webhook-id`. */
  field: string;
  message: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

export interface HttpProblemOptions {
  /** Short machine-readable code; the `type` is `urn:defender-relay:problem:<code>`. */
  code?: string;
  title?: string;
  errors?: FieldError[];
  /** Extra response headers (`Allow`, `WWW-Authenticate`, `Retry-After`). */
  headers?: Record<string, string>;
  /** Extension members added to the problem object. */
  extensions?: Record<string, unknown>;
  /** The cause behind `detail`, for the log only (the operator's business, not the caller's). */
  logDetail?: string;
}

/** An error that is the HTTP answer. `detail` is shown to the caller: never put a secret or token in it. */
export class HttpProblem extends Error {
  readonly code: string;
  readonly title: string;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
  readonly extensions?: Record<string, unknown>;
  readonly logDetail?: string;

  constructor(
    public readonly status: number,
    public readonly detail: string,
    options: HttpProblemOptions = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.code = options.code ?? defaultCode(status);
    this.title = options.title ?? TITLES[status] ?? 'Error';
    this.errors = options.errors;
    this.headers = options.headers;
    this.extensions = options.extensions;
    this.logDetail = options.logDetail;
  }

  toJSON(instance?: string): ProblemDetails {
    return {
      ...this.extensions,
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...(this.errors && this.errors.length > 0 ? { errors: this.errors } : {}),
    };
  }
}

export function problemType(code: string): string {
  return `urn:defender-relay:problem:${code}`;
}

function defaultCode(status: number): string {
  return (TITLES[status] ?? `http-${status}`).toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** A 400/422 naming the bad fields. */
export function validationProblem(errors: FieldError[], status: 400 | 422 = 422): HttpProblem {
  const names = [...new Set(errors.map((e) => e.field))];
  return new HttpProblem(
    status,
    `Invalid ${names.length === 1 ? 'field' : 'fields'}: ${names.slice(0, 10).join(', ')}. ` +
      errors
        .slice(0, 10)
        .map((e) => `${e.field} ${e.message}`)
        .join('; '),
    { code: 'validation-error', title: 'Invalid request', errors },
  );
}

/** The response for a problem; `instance` identifies this occurrence (the request path). */
export function problemResponse(problem: HttpProblem, instance?: string): HttpResponseInit {
  return {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...problem.headers },
    body: JSON.stringify(problem.toJSON(instance)),
  };
}

/** A JSON success response. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
