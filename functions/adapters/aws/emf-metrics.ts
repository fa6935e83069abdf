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
        // When CloudWatch receives the figures, not the scan's business instant: it refuses timestamps
        // more than two weeks old, and a replayed scan's metrics belong to the run, not to its "as of".
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
