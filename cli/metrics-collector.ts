/**
 * A RunMetrics that keeps the points of each run instead of printing EMF: the CLI and the demo run
 * outside Lambda, where an EMF line on stdout would reach no CloudWatch. They show the points
 * instead; scheduled and stream-triggered runs in AWS publish the same points as metrics.
 */
import type { MetricPoint, RunMetrics } from '../lambdas/aws/metrics';

export interface CollectedRun {
  credential: string;
  points: MetricPoint[];
}

export class CollectingMetrics implements RunMetrics {
  readonly runs: CollectedRun[] = [];

  publish(credential: string, points: MetricPoint[]): void {
    this.runs.push({ credential, points: points.map((p) => ({ ...p })) });
  }

  get last(): CollectedRun | undefined {
    return this.runs[this.runs.length - 1];
  }
}

export function renderMetricPoints(points: readonly MetricPoint[]): string {
  const width = Math.max(...points.map((p) => p.name.length));
  return points.map((p) => `  ${p.name.padEnd(width)}  ${p.value}${p.unit === 'Milliseconds' ? ' ms' : ''}`).join('\n');
}
