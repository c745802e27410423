/**
 * Reading and validating HTTP input: method check (405 with `Allow`), body read with a size limit (413,
 * the stream is cut off as soon as it passes the limit), JSON parse (400), zod validation (body: 422,
 * query and headers: 400), each failure an `HttpProblem` naming the bad field.
 */
import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { HttpProblem, validationProblem, type FieldError } from './problem';

/** Default body limit of HTTP functions: 64 KiB. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** Throws 405 (with `Allow`) unless the request's method is one of `allowed`. */
export function requireMethod(request: HttpRequest, allowed: readonly string[]): void {
  const method = (request.method ?? '').toUpperCase();
  if (!allowed.includes(method)) {
    throw new HttpProblem(405, `Use ${allowed.join(' or ')} on this route.`, {
      headers: { allow: allowed.join(', ') },
    });
  }
}

/** Reads the raw body, refusing more than `maxBytes` (413). An absent body is an empty buffer. */
export async function readBody(
  request: HttpRequest,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): Promise<Buffer> {
  const tooLarge = () =>
    new HttpProblem(413, `The request body is larger than ${maxBytes} bytes.`, {
      extensions: { maxBytes },
    });
  const declared = request.headers.get('content-length');
  if (declared && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) throw tooLarge();
  const stream = request.body;
  if (!stream) return Buffer.alloc(0);
  const reader = stream.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = Buffer.from(value as Uint8Array);
      size += chunk.length;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body: 415 for a non-JSON content type, 400 when it is empty or not JSON. */
export function parseJson(raw: Buffer, contentType: string | null): unknown {
  if (contentType && !/^\s*application\/([\w.+-]*\+)?json\s*(;|$)/i.test(contentType)) {
    throw new HttpProblem(415, 'Send the body as application/json.', {
      errors: [{ field: 'header.content-type', message: 'must be application/json' }],
    });
  }
  if (raw.length === 0) {
    throw new HttpProblem(400, 'The request needs a JSON body.', {
      code: 'validation-error',
      errors: [{ field: 'body', message: 'is required' }],
    });
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HttpProblem(400, 'The request body is not valid JSON.', {
      code: 'validation-error',
      errors: [{ field: 'body', message: 'is not valid JSON' }],
    });
  }
}

/** Validates a value with a zod schema; field names get `prefix` (`query.`, `header.`). */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: { prefix?: string; status?: 400 | 422 } = {},
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationProblem(fieldErrors(result.error, where.prefix ?? ''), where.status ?? 422);
}

/** Reads, parses and validates a JSON body in one step. */
export async function readJsonBody<S extends z.ZodType>(
  request: HttpRequest,
  schema: S,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): Promise<z.output<S>> {
  const raw = await readBody(request, maxBytes);
  return validate(schema, parseJson(raw, request.headers.get('content-type')));
}

/** Validates the query string (as an object of its first values) with a zod schema; 400 on failure. */
export function validateQuery<S extends z.ZodType>(request: HttpRequest, schema: S): z.output<S> {
  const query: Record<string, string> = {};
  for (const [k, v] of request.query) if (!(k in query)) query[k] = v;
  return validate(schema, query, { prefix: 'query.', status: 400 });
}

export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ field: prefix + pathString([...issue.path, key]), message: 'is not a known field' });
      }
      continue;
    }
    const path = pathString(issue.path);
    const field = path ? prefix + path : prefix ? prefix.replace(/\.$/, '') : 'body';
    const received = /received undefined/.test(issue.message);
    out.push({
      field,
      message: received ? 'is required' : issue.message.replace(/^Invalid input:?\s*/i, 'is invalid: '),
    });
  }
  return out;
}

function pathString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s;
}
