/**
 * The triggers, shaped as the Functions host shapes them for a language worker:
 *
 * - Binding data becomes TypedData as GrpcMessageConversionExtensions.ToRpc does it (Azure/azure-functions-host,
 *   src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs): a string as `string`, a
 *   double as `double`, anything else (long, DateTimeOffset, POCOs) as Newtonsoft JSON in `json`.
 * - Every invocation carries the WebJobs SDK's `sys` binding data (MethodName, UtcNow, RandGuid).
 * - Timer: the TimerInfo object as JSON (`Schedule`, `ScheduleStatus`, `IsPastDue`).
 * - Queue: the message decoded per host.json's `messageEncoding` (base64 by default) as the trigger value,
 *   and the binding data of the queue extension's QueueTriggerBinding.CreateBindingData
 *   (Azure/azure-sdk-for-net, sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Queues/src/Triggers/
 *   QueueTriggerBinding.cs): QueueTrigger, DequeueCount, ExpirationTime, Id, InsertionTime, NextVisibleTime,
 *   PopReceipt.
 * - HTTP: the request as RpcHttp (ToRpcHttp): lower-cased headers, query, route params (as nullable
 *   dictionaries when the worker has UseNullableValueDictionaryForHttp), the body alone as bytes when the worker
 *   has RpcHttpBodyOnly + RawHttpBodyBytes; no HTTP trigger metadata when it has RpcHttpTriggerMetadataRemoved.
 *   The host answers 404 itself when no route and method match, and 401 when a function-level (or admin)
 *   function is called without a valid key in `code` or `x-functions-key`
 *   (src/WebJobs.Script.WebHost/Security/Authentication/Keys/AuthenticationLevelHandler.cs); the worker is
 *   not called then.
 */
import crypto from 'node:crypto';
import type { BindingMetadata, HostFunction, ParameterBinding, RpcHttp, TypedData } from './host';

/** A .NET DateTimeOffset as Newtonsoft.Json writes it: ISO 8601, fraction trimmed, `+00:00`. */
export function newtonsoftDate(date: Date): string {
  return date.toISOString().replace(/\.?0*Z$/, '+00:00');
}

export function jsonData(value: unknown): TypedData {
  return { json: JSON.stringify(value) };
}

export function sysBindingData(functionName: string, now = new Date()): TypedData {
  return jsonData({ MethodName: functionName, UtcNow: newtonsoftDate(now), RandGuid: crypto.randomUUID() });
}

// --- timer ---------------------------------------------------------------------------------------------

export function timerInvocation(
  f: HostFunction,
  options: { isPastDue?: boolean; last?: Date; next?: Date } = {},
): { inputData: ParameterBinding[]; triggerMetadata: Record<string, TypedData> } {
  const now = new Date();
  const timerInfo = {
    Schedule: { AdjustForDST: true },
    ScheduleStatus: options.last
      ? {
          Last: newtonsoftDate(options.last),
          Next: newtonsoftDate(options.next ?? now),
          LastUpdated: newtonsoftDate(options.last),
        }
      : null,
    IsPastDue: options.isPastDue ?? false,
  };
  return {
    inputData: [{ name: f.trigger.name, data: jsonData(timerInfo) }],
    triggerMetadata: { sys: sysBindingData(f.name, now) },
  };
}

// --- queue ---------------------------------------------------------------------------------------------

export interface QueueMessageLike {
  messageId: string;
  popReceipt: string;
  messageText: string;
  dequeueCount: number;
  insertedOn?: Date;
  expiresOn?: Date;
  nextVisibleOn?: Date;
}

/**
 * The message text as the trigger sees it: base64-decoded unless host.json says `messageEncoding: none`.
 * Undefined when the text is not valid base64 (the extension then fails the message).
 */
export function decodeQueueMessage(text: string, encoding: 'base64' | 'none' = 'base64'): string | undefined {
  if (encoding === 'none') return text;
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

export function queueInvocation(
  f: HostFunction,
  message: QueueMessageLike,
  decoded: string,
): { inputData: ParameterBinding[]; triggerMetadata: Record<string, TypedData> } {
  const farFuture = new Date('9999-12-31T23:59:59.999Z'); // DateTimeOffset.MaxValue, near enough
  return {
    inputData: [{ name: f.trigger.name, data: { string: decoded } }],
    triggerMetadata: {
      QueueTrigger: { string: decoded },
      DequeueCount: jsonData(message.dequeueCount),
      ExpirationTime: jsonData(newtonsoftDate(message.expiresOn ?? farFuture)),
      Id: { string: message.messageId },
      InsertionTime: jsonData(newtonsoftDate(message.insertedOn ?? new Date())),
      NextVisibleTime: jsonData(newtonsoftDate(message.nextVisibleOn ?? farFuture)),
      PopReceipt: { string: message.popReceipt },
      sys: sysBindingData(f.name),
    },
  };
}

// --- HTTP ----------------------------------------------------------------------------------------------

export interface HostKeys {
  /** The master key: passes every authorization level. */
  master: string;
  /** Host-level function keys (`default`): pass every function-level function. */
  host: string[];
  /** Function keys by function name. */
  functions: Record<string, string[]>;
}

export interface HttpCall {
  method: string;
  /** Path and query, e.g. `/api/health/deep?code=…`. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the worker was called (false: the host answered by itself). */
  invoked: boolean;
  error?: string;
}

interface RouteMatch {
  f: HostFunction;
  params: Record<string, string>;
}

/** Matches `/api/<route>` against the HTTP functions' route templates (`incidents/{id}`, `{*rest}`, `{x?}`). */
export function matchRoute(
  functions: HostFunction[],
  routePrefix: string,
  pathname: string,
  method: string,
): RouteMatch | undefined {
  const prefix = routePrefix.replace(/^\/+|\/+$/g, '');
  let rest = pathname.replace(/^\/+/, '');
  if (prefix) {
    if (
      rest.toLowerCase() !== prefix.toLowerCase() &&
      !rest.toLowerCase().startsWith(`${prefix.toLowerCase()}/`)
    ) {
      return undefined;
    }
    rest = rest.slice(prefix.length).replace(/^\/+/, '');
  }
  const segments = rest === '' ? [] : rest.replace(/\/+$/, '').split('/').map(decodeURIComponent);
  for (const f of functions) {
    if (f.trigger.type !== 'httpTrigger') continue;
    const methods = (f.trigger.methods as string[] | undefined)?.map((m) => m.toUpperCase());
    if (methods && methods.length > 0 && !methods.includes(method.toUpperCase())) continue;
    const template = String(f.trigger.route ?? f.name).replace(/^\/+|\/+$/g, '');
    const params = matchTemplate(template === '' ? [] : template.split('/'), segments);
    if (params) return { f, params };
  }
  return undefined;
}

function matchTemplate(template: string[], segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const param = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/.exec(t);
    if (param) {
      const [, catchAll, name, optional] = param;
      if (catchAll) {
        params[name!] = segments.slice(i).join('/');
        return params;
      }
      const value = segments[i];
      if (value === undefined) {
        if (optional) continue;
        return undefined;
      }
      params[name!] = value;
    } else if (segments[i]?.toLowerCase() !== t.toLowerCase()) {
      return undefined;
    }
  }
  return segments.length <= template.length ? params : undefined;
}

/** The host's key check, before the worker is called (AuthenticationLevelHandler: `code` or `x-functions-key`). */
export function authorized(
  f: HostFunction,
  keys: HostKeys,
  url: URL,
  headers: Record<string, string>,
): boolean {
  const level = String(f.trigger.authLevel ?? 'function').toLowerCase();
  if (level === 'anonymous') return true;
  const given = headers['x-functions-key'] ?? url.searchParams.get('code') ?? '';
  if (!given) return false;
  const equal = (a: string) =>
    a.length === given.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(given));
  if (equal(keys.master)) return true;
  if (level === 'admin') return false;
  return [...keys.host, ...(keys.functions[f.name] ?? [])].some(equal);
}

export function httpInvocation(
  match: RouteMatch,
  call: HttpCall,
  url: URL,
  capabilities: Record<string, string>,
): { inputData: ParameterBinding[]; triggerMetadata: Record<string, TypedData> } {
  const nullable = Boolean(capabilities.UseNullableValueDictionaryForHttp);
  const headers: Record<string, string> = { host: url.host };
  for (const [k, v] of Object.entries(call.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = call.body === undefined ? undefined : Buffer.from(call.body);
  if (body && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
  const http: RpcHttp = { method: call.method.toUpperCase(), url: url.toString() };
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  if (nullable) {
    http.nullableHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { value: v }]));
    http.nullableQuery = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, { value: v }]));
    http.nullableParams = Object.fromEntries(Object.entries(match.params).map(([k, v]) => [k, { value: v }]));
  } else {
    const ignoreEmpty = Boolean(capabilities.IgnoreEmptyValuedRpcHttpHeaders);
    http.headers = Object.fromEntries(Object.entries(headers).filter(([, v]) => !ignoreEmpty || v !== ''));
    http.query = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''));
    http.params = { ...match.params };
  }
  if (body && body.length > 0) {
    const contentType = (headers['content-type'] ?? '').toLowerCase();
    const binary = /^(application\/octet-stream|multipart\/)/.test(contentType);
    if (capabilities.RpcHttpBodyOnly) {
      http.body =
        binary || capabilities.RawHttpBodyBytes ? { bytes: body } : { string: body.toString('utf8') };
    } else {
      http.body = { string: body.toString('utf8') };
      http.rawBody = capabilities.RawHttpBodyBytes ? { bytes: body } : { string: body.toString('utf8') };
    }
  }
  const triggerMetadata: Record<string, TypedData> = { sys: sysBindingData(match.f.name) };
  if (!capabilities.RpcHttpTriggerMetadataRemoved) {
    triggerMetadata.Query = jsonData(query);
    triggerMetadata.Headers = jsonData(headers);
    for (const [k, v] of Object.entries(match.params)) triggerMetadata[k] = { string: v };
  }
  return { inputData: [{ name: match.f.trigger.name, data: { http } }], triggerMetadata };
}

/** The worker's RpcHttp response (the `$return` http binding) as a status, headers and body. */
export function httpResponse(
  f: HostFunction,
  returnValue: TypedData | undefined,
  outputData: ParameterBinding[],
): Omit<HttpAnswer, 'invoked'> {
  const out = f.bindings.find((b: BindingMetadata) => b.type === 'http' && b.direction === 'out');
  const data = out?.name === '$return' ? returnValue : outputData.find((o) => o.name === out?.name)?.data;
  const http = data?.http;
  if (!http) return { status: 204, headers: {}, body: '' };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(http.headers ?? {})) headers[k.toLowerCase()] = v;
  const b = http.body;
  const body = b?.bytes ? Buffer.from(b.bytes).toString('utf8') : (b?.string ?? b?.json ?? '');
  return { status: Number(http.statusCode || 200), headers, body };
}
