/**
 * A test host for the real Azure Functions Node.js worker (../shared/functions-worker): see host.ts for the
 * protocol, triggers.ts for how trigger data is shaped, queue-listener.ts for the queue trigger's retries
 * and poison queue, stage.ts for the deployment-shaped folder, docs/functions-worker.md for how to use it.
 */
export * from './host';
export * from './queue-listener';
export * from './stage';
export * from './triggers';
export * from './worker-location';
