/**
 * The relay's telemetry contract (docs/telemetry.md): one log line per metric, `RelayMetric {json}`, with a
 * stable `name`. Through the Functions logger it lands in Application Insights `traces`, where the
 * workbook and the alert rules in infra/ read it. Fields never hold a secret, a token or a URL.
 */
export type MetricName =
  | 'relay.sync.completed'
  | 'relay.sync.failed'
  | 'relay.delivery'
  | 'relay.delivery.poisoned'
  | 'relay.read.fallback'
  | 'relay.sweep.completed'
  | 'relay.sweep.failed';

export type Logger = (message: string) => void;

export function metricLine(
  name: MetricName,
  fields: Record<string, string | number | boolean | undefined>,
): string {
  return `RelayMetric ${JSON.stringify({ name, ...fields })}`;
}

export function emitMetric(
  log: Logger,
  name: MetricName,
  fields: Record<string, string | number | boolean | undefined>,
): void {
  log(metricLine(name, fields));
}
