/**
 * Creates a storage resource (queue, container, table) once per process: the first call creates it (the
 * SDKs' create-if-not-exists), later calls share that promise. A failure is not remembered, so the next
 * call tries again.
 */
export function onceReady(create: () => Promise<unknown>): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () =>
    (ready ??= create().then(
      () => undefined,
      (error: unknown) => {
        ready = undefined;
        throw error;
      },
    ));
}
