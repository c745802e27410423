/**
 * A bad setting must stop the Functions app where an operator looks, not leave an empty app behind.
 *
 * The Node.js worker (3.9.1) loads `dist/index.js` when the host initializes it. If the entry point throws,
 * the worker keeps the error as the app's blocking start error (always on Node 20+, and on older Node for
 * any `@azure/functions` v4 app) and answers the host's FunctionsMetadataRequest with it, which the host logs
 * as "Worker failed to index functions" with the error's text. But it does so only for an app that indexes
 * itself, and the library tells the worker so only at the first `app.*` registration: an app that throws
 * before registering anything is answered "use default indexing", the host looks for function.json files,
 * finds none, and runs zero functions with nothing in its log (the error reaches only the worker's stderr).
 *
 * So on a `ConfigError` the entry point first registers the two health functions, answering 503 problem
 * JSON, and then throws the error on: the worker now fails the metadata request with the ConfigError text
 * (every bad setting by name, never a value), and the host reports it. The host then runs no function, so
 * `GET /api/health` is a 404 from the host, never a 200. On a worker that does not block on an entry-point
 * error (Node < 20 with FUNCTIONS_NODE_BLOCK_ON_ENTRY_POINT_ERROR=false, or older workers) the health
 * functions are what runs: they answer 503 and the keyed deep check names each bad setting.
 */
import { app, type HttpHandler } from '@azure/functions';
import { ConfigError, loadConfig, type RelayConfig } from '../config/settings';
import { HttpProblem, httpFunction } from '../http';
import { ALL_METHODS, HTTP_FUNCTIONS } from './http-functions';

export const CONFIG_ERROR_CODE = 'configuration-error';

/** `GET /api/health` of an app whose settings are wrong: 503, no details (it is anonymous). */
export function configFailureHealthHandler(): HttpHandler {
  return httpFunction({ methods: ['GET', 'HEAD'] }, () => {
    throw new HttpProblem(
      503,
      'The relay cannot work: some of its app settings are wrong. The deep health check ' +
        '(GET /api/health/deep?code=<function key>) and the Functions host log name them.',
      { code: CONFIG_ERROR_CODE },
    );
  });
}

/** `GET /api/health/deep` (function key) of an app whose settings are wrong: 503 naming each bad setting. */
export function configFailureDeepHealthHandler(error: ConfigError): HttpHandler {
  return httpFunction({ methods: ['GET'] }, () => {
    throw new HttpProblem(503, error.message, {
      code: CONFIG_ERROR_CODE,
      title: 'App settings are wrong',
      errors: error.problems.map((p) => ({ field: p.setting, message: p.problem })),
    });
  });
}

const DEGRADED: Record<string, (error: ConfigError) => HttpHandler> = {
  health: () => configFailureHealthHandler(),
  healthDeep: configFailureDeepHealthHandler,
};

/**
 * `loadConfig` for the Functions entry point: on a bad setting it registers the health functions as above,
 * then throws the `ConfigError` on so that the worker reports it to the host.
 */
export function loadFunctionsConfig(env: NodeJS.ProcessEnv): RelayConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const f of HTTP_FUNCTIONS) {
        const handler = DEGRADED[f.name];
        if (handler) {
          app.http(f.name, {
            route: f.route,
            methods: [...ALL_METHODS],
            authLevel: f.authLevel,
            handler: handler(error),
          });
        }
      }
    }
    throw error;
  }
}
