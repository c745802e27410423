/**
 * A test host for the real Azure Functions Node.js language worker: it plays the Functions host's side of
 * the gRPC protocol the way the host's source does (Azure/azure-functions-host,
 * src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs), so the app is run as Azure runs it:
 *
 *   1. open a gRPC server on loopback and start `node nodejsWorker.js --host … --port … --workerId …
 *      --requestId … --grpcMaxMessageLength …` (and the `--functions-*` spellings) in the app's folder;
 *   2. answer the worker's StartStream with a WorkerInitRequest (hostVersion, workerDirectory,
 *      functionAppDirectory) and wait for the WorkerInitResponse and its capabilities;
 *   3. placeholder start only (Flex Consumption, WEBSITE_PLACEHOLDER_MODE=1): the worker was started on an
 *      empty site without the app settings; the host sends FunctionEnvironmentReloadRequest with every
 *      environment variable, FUNCTIONS_WORKER_DIRECTORY, FUNCTIONS_APPLICATION_DIRECTORY and the app folder
 *      (GetFunctionEnvironmentReloadRequest), and the worker loads the app only then;
 *   4. FunctionsMetadataRequest: a v4-model app indexes itself; a failed result is logged as "Worker failed
 *      to index functions" with the worker's exception, and `useDefaultMetadataIndexing` means the host
 *      looks for function.json files (ProcessFunctionMetadataResponses); each function is validated as
 *      AggregateFunctionMetadataProvider.ValidateMetadata does (name, bindings, one trigger);
 *   5. FunctionLoadRequest per function (GetFunctionLoadRequest: name, directory, scriptFile, entryPoint,
 *      bindings by name); a failed load is kept and replayed on each invocation without calling the worker;
 *   6. InvocationRequest per trigger (shaped in triggers.ts), InvocationResponse back;
 *   7. WorkerTerminate with a grace period, then the process is killed if it is still there.
 *
 * Everything is on 127.0.0.1. `stop()` ends the worker and the server; nothing is left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { findWorker, timeSpanMs, type WorkerLocation } from './worker-location';
import type { HostJson } from './stage';
import {
  authorized,
  httpInvocation,
  httpResponse,
  matchRoute,
  timerInvocation,
  type HttpAnswer,
  type HttpCall,
  type HostKeys,
} from './triggers';

export const GRPC_MAX_MESSAGE_LENGTH = 2147483647;
/** Reported to the worker as the host's version (WorkerInitRequest.hostVersion). */
export const TEST_HOST_VERSION = '4.1037.0.0';

// ---------------------------------------------------------------------------------------------------
// The protocol's messages, as @grpc/proto-loader gives them (camelCase fields, enums as strings).

export interface TypedData {
  string?: string;
  json?: string;
  bytes?: Buffer | Uint8Array;
  int?: string | number;
  double?: number;
  http?: RpcHttp;
  data?: string;
}

export interface RpcHttp {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  nullableHeaders?: Record<string, { value?: string }>;
  body?: TypedData;
  rawBody?: TypedData;
  params?: Record<string, string>;
  nullableParams?: Record<string, { value?: string }>;
  query?: Record<string, string>;
  nullableQuery?: Record<string, { value?: string }>;
  statusCode?: string;
  identities?: unknown[];
  cookies?: unknown[];
}

export interface StatusResult {
  status?: 'Failure' | 'Success' | 'Cancelled';
  result?: string;
  exception?: { message?: string; stackTrace?: string; source?: string; type?: string };
}

export interface ParameterBinding {
  name: string;
  data?: TypedData;
}

export interface RpcFunctionMetadata {
  name: string;
  functionId: string;
  directory?: string;
  scriptFile?: string;
  entryPoint?: string;
  rawBindings: string[];
  retryOptions?: unknown;
  properties?: Record<string, string>;
  status?: StatusResult;
}

export interface RpcLog {
  invocationId?: string;
  category?: string;
  level?: string;
  message?: string;
  exception?: StatusResult['exception'];
  logCategory?: 'User' | 'System' | 'CustomMetric';
}

interface StreamingMessage {
  requestId?: string;
  content?: string;
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------
// What the host knows of a function once it is indexed and loaded.

export interface BindingMetadata {
  name: string;
  type: string;
  direction: 'in' | 'out' | 'inout';
  dataType?: string;
  [property: string]: unknown;
}

export interface HostFunction {
  name: string;
  functionId: string;
  bindings: BindingMetadata[];
  trigger: BindingMetadata;
  /** Raw metadata as the worker answered it. */
  metadata: RpcFunctionMetadata;
  loadError?: string;
}

/** One line the host would log: its own (source "host"), the worker's RpcLog, or the process's output. */
export interface HostLogLine {
  source: 'host' | 'worker' | 'stdout' | 'stderr';
  level: string;
  message: string;
  invocationId?: string;
  functionName?: string;
  /** For the worker's lines: the app's own (`User`) or the worker's (`System`). */
  logCategory?: string;
}

export interface InvocationResult {
  invocationId: string;
  status: 'Success' | 'Failure' | 'Cancelled';
  error?: string;
  returnValue?: TypedData;
  outputData: ParameterBinding[];
  logs: HostLogLine[];
}

export interface HostOptions {
  /** The staged app (stage.ts). */
  appDir: string;
  hostJson: HostJson;
  /** The app settings: the worker's environment, as App Service gives them. */
  settings: Record<string, string>;
  /** Start as a placeholder and specialize with FunctionEnvironmentReloadRequest (Flex Consumption). */
  placeholder?: { siteDir: string };
  worker?: WorkerLocation;
  /** Function keys the host checks (default: a random master key, host key and one key per function). */
  keys?: Partial<HostKeys>;
  /** Called with every log line as it comes (the tests search them for leaked credentials). */
  onLog?: (line: HostLogLine) => void;
}

const VALID_FUNCTION_NAME = /^[a-z][a-z0-9_-]{0,127}$/i; // Utility.IsValidFunctionName

/**
 * The variables any process on the machine needs (and the simulator CA and loopback names the tests set
 * up in NODE_EXTRA_CA_CERTS / NODE_OPTIONS); the app settings come on top. Nothing else of the test
 * runner's environment reaches the app, so a missing setting is really missing.
 */
export function baseEnvironment(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'SystemRoot'];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return env;
}

export class FunctionsTestHost {
  readonly logs: HostLogLine[] = [];
  readonly functions = new Map<string, HostFunction>();
  /** Function-level indexing errors (name → messages), as the host's FunctionErrors. */
  readonly functionErrors = new Map<string, string[]>();
  /** The failed FunctionMetadataResponse's exception message, when the worker could not index the app. */
  indexingError?: string;
  usedDefaultMetadataIndexing = false;
  capabilities: Record<string, string> = {};
  workerMetadata?: Record<string, unknown>;
  /** How the worker process ended (after `stop()`): code 0 and no signal is a graceful WorkerTerminate. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };

  private server?: grpc.Server;
  private call?: grpc.ServerDuplexStream<StreamingMessage, StreamingMessage>;
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private readonly waiters = new Map<
    string,
    { resolve(m: StreamingMessage): void; reject(e: Error): void }
  >();
  private readonly invocations = new Map<string, { functionName: string; logs: HostLogLine[] }>();
  private readonly workerId = crypto.randomUUID();
  private readonly worker: WorkerLocation;
  private failure?: Error;
  readonly keys: HostKeys;

  private constructor(private readonly options: HostOptions) {
    const worker = options.worker ?? findWorker();
    if (!worker) throw new Error('The Functions Node.js worker is not at ../shared/functions-worker.');
    this.worker = worker;
    const key = () => crypto.randomBytes(32).toString('base64url');
    this.keys = {
      master: options.keys?.master ?? key(),
      host: options.keys?.host ?? [key()],
      functions: options.keys?.functions ?? {},
    };
  }

  /** The function key of one function (made on first use, as the host makes a `default` key per function). */
  functionKey(functionName: string): string {
    const keys = (this.keys.functions[functionName] ??= []);
    if (keys.length === 0) keys.push(crypto.randomBytes(32).toString('base64url'));
    return keys[0]!;
  }

  static async start(options: HostOptions): Promise<FunctionsTestHost> {
    const host = new FunctionsTestHost(options);
    try {
      await host.run();
      return host;
    } catch (error) {
      await host.stop();
      throw error;
    }
  }

  get hostJson(): HostJson {
    return this.options.hostJson;
  }

  get settings(): Record<string, string> {
    return this.options.settings;
  }

  private record(line: HostLogLine): void {
    this.logs.push(line);
    this.options.onLog?.(line);
  }

  private hostLog(level: string, message: string): void {
    this.record({ source: 'host', level, message });
  }

  private async run(): Promise<void> {
    const port = await this.listen();
    const { placeholder } = this.options;
    const initTimeout = timeSpanMs(this.worker.config.processOptions?.initializationTimeout, 120_000);
    const started = this.waitFor('startStream', initTimeout);
    this.spawnWorker(port, placeholder ? placeholder.siteDir : this.options.appDir);
    await started;

    // SendWorkerInitRequest → WorkerInitResponse
    const init = (await this.request(
      {
        workerInitRequest: {
          hostVersion: TEST_HOST_VERSION,
          workerDirectory: this.worker.workerDirectory,
          functionAppDirectory: placeholder ? placeholder.siteDir : this.options.appDir,
          capabilities: {},
          logCategories: {},
        },
      },
      'workerInitResponse',
      initTimeout,
    )) as {
      result?: StatusResult;
      capabilities?: Record<string, string>;
      workerMetadata?: Record<string, unknown>;
    };
    if (init.result?.status !== 'Success') {
      throw new Error(
        `Worker initialization failed: ${init.result?.exception?.message ?? 'no reason given'}`,
      );
    }
    this.capabilities = { ...(init.capabilities ?? {}) };
    this.workerMetadata = init.workerMetadata;

    if (placeholder) await this.specialize();
    await this.index();
    await this.load();
  }

  /** FunctionEnvironmentReloadRequest: the placeholder worker gets the app's environment and folder. */
  private async specialize(): Promise<void> {
    const environmentVariables: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...baseEnvironment(), ...this.options.settings })) {
      // Do not add environment variables with empty or null values (host issue #4488).
      if (v) environmentVariables[k] = v;
    }
    environmentVariables.FUNCTIONS_WORKER_DIRECTORY ??= this.worker.workerDirectory;
    environmentVariables.FUNCTIONS_APPLICATION_DIRECTORY ??= this.options.appDir;
    const reloadTimeout = timeSpanMs(this.worker.config.processOptions?.environmentReloadTimeout, 120_000);
    const res = (await this.request(
      {
        functionEnvironmentReloadRequest: { environmentVariables, functionAppDirectory: this.options.appDir },
      },
      'functionEnvironmentReloadResponse',
      reloadTimeout,
    )) as {
      result?: StatusResult;
      capabilities?: Record<string, string>;
      capabilitiesUpdateStrategy?: string;
    };
    // ApplyCapabilities with the response's strategy (merge by default, replace when the worker says so).
    this.capabilities =
      res.capabilitiesUpdateStrategy === 'replace'
        ? { ...(res.capabilities ?? {}) }
        : { ...this.capabilities, ...(res.capabilities ?? {}) };
    if (res.result?.status === 'Failure') {
      this.hostLog(
        'Warning',
        `Failed to reload environment variables: ${res.result.exception?.message ?? ''}`,
      );
    }
  }

  private async index(): Promise<void> {
    const res = (await this.request(
      { functionsMetadataRequest: { functionAppDirectory: this.options.appDir } },
      'functionMetadataResponse',
      60_000,
    )) as {
      result?: StatusResult;
      functionMetadataResults?: RpcFunctionMetadata[];
      useDefaultMetadataIndexing?: boolean;
    };
    if (res.result?.status === 'Failure') {
      this.indexingError = res.result.exception?.message ?? 'no exception given';
      this.hostLog('Error', `Worker failed to index functions: ${this.indexingError}`);
    }
    if (res.useDefaultMetadataIndexing) {
      // The host falls back to function.json files (host indexing); a v4-model package has none.
      this.usedDefaultMetadataIndexing = true;
      this.hostLog('Debug', 'Fallback to host indexing as worker denied indexing');
      this.hostLog('Information', '0 functions found (Custom)');
      return;
    }
    for (const metadata of res.functionMetadataResults ?? []) {
      try {
        if (!VALID_FUNCTION_NAME.test(metadata.name))
          throw new Error(`'${metadata.name}' is not a valid function name.`);
        if (metadata.status?.status === 'Failure') {
          this.hostLog('Error', `Worker failed to index function ${metadata.functionId}`);
        }
        const bindings = metadata.rawBindings.map((raw) => JSON.parse(raw) as BindingMetadata);
        if (bindings.length === 0) throw new Error('At least one binding must be declared.');
        const names = new Set<string>();
        for (const b of bindings) {
          if (names.has(b.name.toLowerCase())) {
            throw new Error(
              `Multiple bindings with name '${b.name}' discovered. Binding names must be unique.`,
            );
          }
          names.add(b.name.toLowerCase());
        }
        const trigger = bindings.find((b) => b.direction === 'in' && /trigger$/i.test(b.type));
        if (!trigger)
          throw new Error('No trigger binding specified. A function must have a trigger input binding.');
        this.functions.set(metadata.name, {
          name: metadata.name,
          functionId: metadata.functionId,
          bindings,
          trigger,
          metadata,
          loadError:
            metadata.status?.status === 'Failure'
              ? (metadata.status.exception?.message ?? 'indexing failed')
              : undefined,
        });
      } catch (error) {
        const list = this.functionErrors.get(metadata.name) ?? [];
        list.push((error as Error).message);
        this.functionErrors.set(metadata.name, list);
      }
    }
    this.hostLog('Information', `${this.functions.size} functions found (Custom)`);
  }

  private async load(): Promise<void> {
    await Promise.all(
      [...this.functions.values()].map(async (f) => {
        const bindings: Record<string, { type: string; direction: string; dataType: string }> = {};
        for (const b of f.bindings) {
          bindings[b.name] = { type: b.type, direction: b.direction, dataType: b.dataType ?? 'undefined' };
        }
        const res = (await this.request(
          {
            functionLoadRequest: {
              functionId: f.functionId,
              metadata: {
                name: f.name,
                directory: f.metadata.directory ?? '',
                scriptFile: f.metadata.scriptFile ?? '',
                entryPoint: f.metadata.entryPoint ?? '',
                isProxy: false,
                bindings,
              },
            },
          },
          `functionLoadResponse:${f.functionId}`,
          60_000,
        )) as { result?: StatusResult };
        if (res.result?.status === 'Failure') {
          f.loadError = res.result.exception?.message ?? 'Function load exception is not set by the worker.';
          this.hostLog('Error', `Worker failed to load function: '${f.name}': ${f.loadError}`);
        }
      }),
    );
  }

  /** InvocationRequest → InvocationResponse. A function that failed to load fails without the worker. */
  async invoke(
    functionName: string,
    inputData: ParameterBinding[],
    triggerMetadata: Record<string, TypedData>,
    retryContext?: { retryCount: number; maxRetryCount: number },
  ): Promise<InvocationResult> {
    const f = this.functions.get(functionName);
    if (!f)
      throw new Error(
        `No function named ${functionName} is loaded (functions: ${[...this.functions.keys()].join(', ')}).`,
      );
    const invocationId = crypto.randomUUID();
    const logs: HostLogLine[] = [];
    if (f.loadError) {
      return { invocationId, status: 'Failure', error: f.loadError, outputData: [], logs };
    }
    this.invocations.set(invocationId, { functionName, logs });
    this.hostLog('Information', `Executing 'Functions.${functionName}' (Id=${invocationId})`);
    try {
      const traceParent = `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-00`;
      const res = (await this.request(
        {
          invocationRequest: {
            invocationId,
            functionId: f.functionId,
            inputData,
            triggerMetadata,
            traceContext: { traceParent, traceState: '', attributes: {} },
            ...(retryContext ? { retryContext } : {}),
          },
        },
        `invocationResponse:${invocationId}`,
        timeSpanMs(this.options.hostJson.functionTimeout, 300_000),
      )) as { result?: StatusResult; returnValue?: TypedData; outputData?: ParameterBinding[] };
      const status = res.result?.status ?? 'Failure';
      const error =
        status === 'Success' ? undefined : (res.result?.exception?.message ?? 'no exception given');
      this.hostLog(
        status === 'Success' ? 'Information' : 'Error',
        `Executed 'Functions.${functionName}' (${status === 'Success' ? 'Succeeded' : `Failed: ${error}`}, Id=${invocationId})`,
      );
      return {
        invocationId,
        status,
        error,
        returnValue: res.returnValue,
        outputData: res.outputData ?? [],
        logs,
      };
    } finally {
      this.invocations.delete(invocationId);
    }
  }

  /** One timer occurrence of a timer-triggered function. */
  fireTimer(functionName: string, options: { isPastDue?: boolean } = {}): Promise<InvocationResult> {
    const f = this.functions.get(functionName);
    if (!f || f.trigger.type !== 'timerTrigger')
      throw new Error(`${functionName} is not a loaded timer function`);
    const { inputData, triggerMetadata } = timerInvocation(f, options);
    return this.invoke(functionName, inputData, triggerMetadata);
  }

  /**
   * An HTTP request as the host's front end takes it: routed under host.json's routePrefix (`api`), keys
   * checked per the function's authLevel, then the worker invoked with the request as RpcHttp. No route:
   * 404; no valid key: 401; an invocation that fails: 500 with no body (the host's answers, not the app's).
   */
  async http(call: HttpCall): Promise<HttpAnswer> {
    const url = new URL(call.path, 'http://localhost:7071');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.headers ?? {})) headers[k.toLowerCase()] = v;
    const routePrefix = this.options.hostJson.extensions?.http?.routePrefix ?? 'api';
    const match = matchRoute([...this.functions.values()], routePrefix, url.pathname, call.method);
    if (!match) return { status: 404, headers: {}, body: '', invoked: false };
    if (!authorized(match.f, this.keys, url, headers))
      return { status: 401, headers: {}, body: '', invoked: false };
    const { inputData, triggerMetadata } = httpInvocation(
      match,
      { ...call, headers },
      url,
      this.capabilities,
    );
    const result = await this.invoke(match.f.name, inputData, triggerMetadata);
    if (result.status !== 'Success')
      return { status: 500, headers: {}, body: '', invoked: true, error: result.error };
    return { ...httpResponse(match.f, result.returnValue, result.outputData), invoked: true };
  }

  // -------------------------------------------------------------------------------------------------
  // The gRPC side.

  private listen(): Promise<number> {
    const definition = protoLoader.loadSync(path.join(this.worker.protoDir, 'FunctionRpc.proto'), {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: false,
      oneofs: true,
      includeDirs: [this.worker.protoDir],
    });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      AzureFunctionsRpcMessages: { FunctionRpc: { service: grpc.ServiceDefinition } };
    };
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': GRPC_MAX_MESSAGE_LENGTH,
      'grpc.max_send_message_length': GRPC_MAX_MESSAGE_LENGTH,
    });
    this.server.addService(pkg.AzureFunctionsRpcMessages.FunctionRpc.service, {
      EventStream: (call: grpc.ServerDuplexStream<StreamingMessage, StreamingMessage>) => {
        this.call = call;
        call.on('data', (msg: StreamingMessage) => this.onMessage(msg));
        call.on('error', () => undefined);
        call.on('end', () => call.end());
      },
    });
    return new Promise((resolve, reject) => {
      this.server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      );
    });
  }

  private spawnWorker(port: number, cwd: string): void {
    const requestId = crypto.randomUUID();
    const args = [
      this.worker.entry,
      ...[
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workerId',
        this.workerId,
        '--requestId',
        requestId,
      ],
      ...['--grpcMaxMessageLength', String(GRPC_MAX_MESSAGE_LENGTH)],
      ...['--functions-uri', `http://127.0.0.1:${port}/`, '--functions-worker-id', this.workerId],
      ...[
        '--functions-request-id',
        requestId,
        '--functions-grpc-max-message-length',
        String(GRPC_MAX_MESSAGE_LENGTH),
      ],
    ];
    // A placeholder worker runs without the app's settings: it gets them at specialization.
    const env = this.options.placeholder
      ? { ...baseEnvironment(), WEBSITE_PLACEHOLDER_MODE: '1', FUNCTIONS_WORKER_RUNTIME: 'node' }
      : {
          ...baseEnvironment(),
          FUNCTIONS_WORKER_RUNTIME: 'node',
          AzureWebJobsScriptRoot: this.options.appDir,
          ...this.options.settings,
        };
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const source of ['stdout', 'stderr'] as const) {
      let buffered = '';
      child[source]!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines)
          if (line.trim())
            this.record({ source, level: source === 'stderr' ? 'Error' : 'Information', message: line });
      });
    }
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      const error = new Error(`The worker exited (code ${code}, signal ${signal}).`);
      this.failure ??= error;
      for (const w of this.waiters.values()) w.reject(error);
      this.waiters.clear();
    });
  }

  private onMessage(msg: StreamingMessage): void {
    const type = msg.content;
    if (!type) return;
    const body = msg[type] as Record<string, unknown>;
    if (type === 'rpcLog') {
      const log = body as RpcLog;
      const line: HostLogLine = {
        source: 'worker',
        level: log.level ?? 'Information',
        message: log.message ?? '',
        invocationId: log.invocationId || undefined,
        logCategory: log.logCategory,
      };
      const inv = log.invocationId ? this.invocations.get(log.invocationId) : undefined;
      if (inv) {
        line.functionName = inv.functionName;
        inv.logs.push(line);
      }
      this.record(line);
      return;
    }
    let key = type;
    if (type === 'functionLoadResponse') key = `${type}:${String(body.functionId)}`;
    if (type === 'invocationResponse') key = `${type}:${String(body.invocationId)}`;
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      waiter.resolve(type === 'startStream' ? msg : (body as StreamingMessage));
    }
  }

  private waitFor(key: string, timeoutMs: number): Promise<StreamingMessage> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`No ${key.split(':')[0]} from the worker within ${timeoutMs} ms.`));
      }, timeoutMs);
      timer.unref();
      this.waiters.set(key, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  private request(
    message: Record<string, unknown>,
    responseKey: string,
    timeoutMs: number,
  ): Promise<StreamingMessage> {
    const response = this.waitFor(responseKey, timeoutMs);
    if (!this.call) return Promise.reject(new Error('The worker has not opened its event stream.'));
    this.call.write({ requestId: crypto.randomUUID(), ...message });
    return response;
  }

  /** WorkerTerminate with a grace period; the process is killed if it outlives it. Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      if (this.capabilities.HandlesWorkerTerminateMessage && this.call) {
        try {
          this.call.write({
            requestId: crypto.randomUUID(),
            workerTerminate: { gracePeriod: { seconds: 5 } },
          });
        } catch {
          // the stream is gone; the kill below ends the process
        }
      } else {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 6_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.call?.end();
    this.server?.forceShutdown();
    this.server = undefined;
  }
}
