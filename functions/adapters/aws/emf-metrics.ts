/**
 * CloudWatch Embedded Metric Format: one JSON log line becomes a metric, with no API call and no
 * extra permission. Alarms in the stack watch these.
 */
export const METRIC_NAMESPACE = 'Certalarm';

export function emitMetrics(
  metrics: Record<string, number>,
  dimensions: Record<string, string> = {},
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): void {
  write(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: [Object.keys(dimensions)],
            Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })),
          },
        ],
      },
      ...dimensions,
      ...metrics,
    }),
  );
}
