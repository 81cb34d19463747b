/**
 * Replays metric timelines against the alarms of a synthesized template, without CloudWatch. Pure
 * and deterministic: time is whole seconds from 0.
 *
 * Three parts:
 * - templateFacts(): what the template says (each alarm's query or metric, period, threshold,
 *   datapoints-to-alarm, evaluation periods, missing-data treatment; the queue's visibility timeout
 *   and maxReceiveCount; the schedule rate; worker timeout and concurrency).
 * - simulate(): the deployment as the template sizes it: a fan-out tick per schedule period, an SQS
 *   FIFO queue (one group per credential, in-flight messages hide their group, a DLQ after
 *   maxReceiveCount receives), a worker pool of the event source's concurrency, and each finished
 *   run's batch response decided by the worker's own processFifoBatch. A scenario says what each
 *   run does: its duration and its outcome (the metric points the real metrics.ts computes), or a
 *   hang that Lambda kills at the timeout.
 * - evaluate(): CloudWatch's evaluation, once a minute: complete periods only, data visible a minute
 *   after it was emitted, M out of N, missing data as the alarm says; a Metrics Insights query with
 *   GROUP BY gives one contributor per credential seen in the last 3 hours, each with its own state.
 */
import type { SQSRecord } from 'aws-lambda';
import type { MetricPoint } from '../../lambdas/aws/metrics';
import { processFifoBatch } from '../../lambdas/handlers/sqs-batch';

type Json = Record<string, unknown>;

export type Comparison = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type MissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

export type AlarmSource =
  | { kind: 'insights'; fn: 'SUM' | 'MIN' | 'MAX'; metric: string; groupBy: boolean }
  | { kind: 'aws'; namespace: string; metric: string; resource: string; statistic: string }
  | { kind: 'sum-of'; parts: Array<{ namespace: string; metric: string; resource: string }> };

export interface AlarmSpec {
  name: string;
  source: AlarmSource;
  periodSeconds: number;
  threshold: number;
  comparison: Comparison;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  missing: MissingData;
}

export interface TemplateFacts {
  alarms: AlarmSpec[];
  scheduleSeconds: number;
  visibilitySeconds: number;
  maxReceiveCount: number;
  workerTimeoutSeconds: number;
  workerConcurrency: number;
  /** Logical ids, to resolve alarm dimensions. */
  ids: { queue: string; dlq: string; worker: string; fanOut: string };
}

function resourcesOf(template: Json, type: string): Array<[string, Json]> {
  const resources = (template.Resources ?? {}) as Record<string, { Type: string; Properties?: Json }>;
  return Object.entries(resources).filter(([, r]) => r.Type === type).map(([id, r]) => [id, r.Properties ?? {}]);
}

function onlyId(template: Json, type: string, prefix: string): string {
  const ids = resourcesOf(template, type).map(([id]) => id).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.length}`);
  return ids[0] as string;
}

/** The logical id a dimension value refers to ({ Ref } or { Fn::GetAtt: [id, ...] }). */
function refOf(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return v.Ref ?? v['Fn::GetAtt']?.[0] ?? String(value);
}

const INSIGHTS = /^SELECT (SUM|MIN|MAX)\((\w+)\) FROM SCHEMA\([^)]*\) WHERE [^']*'[^']*'( GROUP BY credential)?$/;

function sourceOf(props: Json): { source: AlarmSource; period: number } {
  const metrics = props.Metrics as Json[] | undefined;
  if (metrics === undefined) {
    const dims = (props.Dimensions as Array<{ Value: unknown }> | undefined) ?? [];
    return {
      source: { kind: 'aws', namespace: String(props.Namespace), metric: String(props.MetricName), resource: refOf(dims[0]?.Value), statistic: String(props.Statistic) },
      period: Number(props.Period),
    };
  }
  const returned = metrics.find((m) => m.ReturnData !== false) as Json;
  const expression = String(returned.Expression);
  const insights = INSIGHTS.exec(expression);
  if (insights !== null) {
    return {
      source: { kind: 'insights', fn: insights[1] as 'SUM' | 'MIN' | 'MAX', metric: insights[2] as string, groupBy: insights[3] !== undefined },
      period: Number(returned.Period),
    };
  }
  // Metric math: only a sum of plain metrics (HandlerErrors) is understood.
  const ids = expression.split('+').map((x) => x.trim());
  const parts = ids.map((id) => {
    const stat = (metrics.find((m) => m.Id === id)?.MetricStat ?? {}) as { Metric?: Json; Period?: number };
    const dims = (stat.Metric?.Dimensions as Array<{ Value: unknown }> | undefined) ?? [];
    return { namespace: String(stat.Metric?.Namespace), metric: String(stat.Metric?.MetricName), resource: refOf(dims[0]?.Value) };
  });
  const period = Number((metrics.find((m) => m.Id === ids[0])?.MetricStat as { Period?: number } | undefined)?.Period);
  return { source: { kind: 'sum-of', parts }, period };
}

export function templateFacts(template: Json): TemplateFacts {
  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, p]): AlarmSpec => {
    const { source, period } = sourceOf(p);
    const evaluationPeriods = Number(p.EvaluationPeriods);
    return {
      name: String(p.AlarmName).replace(/^[^-]+-/, ''),
      source,
      periodSeconds: period,
      threshold: Number(p.Threshold),
      comparison: p.ComparisonOperator as Comparison,
      evaluationPeriods,
      datapointsToAlarm: p.DatapointsToAlarm === undefined ? evaluationPeriods : Number(p.DatapointsToAlarm),
      missing: (p.TreatMissingData as MissingData | undefined) ?? 'missing',
    };
  });
  const queue = onlyId(template, 'AWS::SQS::Queue', 'ReconcileQueue');
  const dlq = onlyId(template, 'AWS::SQS::Queue', 'ReconcileDeadLetterQueue');
  const worker = onlyId(template, 'AWS::Lambda::Function', 'ReconcileWorker');
  const fanOut = onlyId(template, 'AWS::Lambda::Function', 'FanOut');
  const queueProps = resourcesOf(template, 'AWS::SQS::Queue').find(([id]) => id === queue)?.[1] ?? {};
  const schedule = resourcesOf(template, 'AWS::Scheduler::Schedule')[0]?.[1] ?? {};
  const rate = /^rate\((\d+) minutes?\)$/.exec(String(schedule.ScheduleExpression));
  if (rate === null) throw new Error(`schedule expression not understood: ${String(schedule.ScheduleExpression)}`);
  const workerProps = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id === worker)?.[1] ?? {};
  const mapping = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').find(([, p]) => refOf(p.FunctionName) === worker)?.[1] ?? {};
  return {
    alarms,
    scheduleSeconds: Number(rate[1]) * 60,
    visibilitySeconds: Number(queueProps.VisibilityTimeout),
    maxReceiveCount: Number((queueProps.RedrivePolicy as { maxReceiveCount?: number } | undefined)?.maxReceiveCount),
    workerTimeoutSeconds: Number(workerProps.Timeout),
    workerConcurrency: Number((mapping.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 1),
    ids: { queue, dlq, worker, fanOut },
  };
}

// ---------------------------------------------------------------------------------------------

/** What one run of a credential does, as the scenario decides at the run's start time. */
export type RunBehaviour =
  /** Finishes after `seconds`, records its outcome and emits `points`; ok = the run succeeded. */
  | { kind: 'finishes'; seconds: number; ok: boolean; points: MetricPoint[] }
  /** Never finishes: Lambda kills it at the timeout; nothing recorded, nothing emitted, an Errors datapoint. */
  | { kind: 'hangs' };

export interface Scenario {
  credentials: string[];
  horizonSeconds: number;
  run(credential: string, startedAt: number): RunBehaviour;
}

export interface Datapoint {
  t: number;
  value: number;
}

/** Per metric: credential ('' = the {service} set) → datapoints. AWS metrics are keyed `namespace/metric/resource`. */
export interface Timelines {
  custom: Map<string, Map<string, Datapoint[]>>;
  aws: Map<string, Datapoint[]>;
}

interface Message {
  id: string;
  group: string;
  sentAt: number;
  receives: number;
  /** In flight until this time (0 = visible). */
  hiddenUntil: number;
}

function push<K>(map: Map<K, Datapoint[]>, key: K, point: Datapoint): void {
  const list = map.get(key) ?? [];
  list.push(point);
  map.set(key, list);
}

function sqsRecord(m: Message): SQSRecord {
  return {
    messageId: m.id,
    receiptHandle: m.id,
    body: JSON.stringify({ credential: m.group, reason: 'schedule', requestedAt: new Date(m.sentAt * 1000).toISOString() }),
    attributes: { MessageGroupId: m.group } as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:q.fifo',
    awsRegion: 'eu-west-1',
  };
}

const SILENT = { warn: (): void => undefined, error: (): void => undefined };

/**
 * Runs the deployment second by second. The batch response of each finished run comes from the
 * worker's processFifoBatch with the run's own verdict (`retry` from reconcile-credential's
 * shouldRetry), so the replay follows the worker's real retry behaviour.
 */
export async function simulate(
  facts: TemplateFacts,
  scenario: Scenario,
  retryOf: (recorded: boolean) => boolean,
): Promise<Timelines> {
  const timelines: Timelines = { custom: new Map(), aws: new Map() };
  const custom = (name: string): Map<string, Datapoint[]> => {
    const m = timelines.custom.get(name) ?? new Map<string, Datapoint[]>();
    timelines.custom.set(name, m);
    return m;
  };
  const aws = (namespace: string, metric: string, resource: string, t: number, value: number): void =>
    push(timelines.aws, `${namespace}/${metric}/${resource}`, { t, value });
  let queue: Message[] = [];
  let dlq = 0;
  let seq = 0;
  const workers: Array<{ until: number; message: Message; behaviour: RunBehaviour } | null> = Array(facts.workerConcurrency).fill(null);

  for (let t = 0; t <= scenario.horizonSeconds; t++) {
    if (t % facts.scheduleSeconds === 0) {
      aws('AWS/Lambda', 'Invocations', facts.ids.fanOut, t, 1);
      for (const c of scenario.credentials) {
        // The fan-out's dedup id is per credential and tick: every tick adds one message per credential.
        queue.push({ id: `m${++seq}`, group: c, sentAt: t, receives: 0, hiddenUntil: 0 });
      }
    }
    // Finished or killed runs.
    for (let w = 0; w < workers.length; w++) {
      const job = workers[w];
      if (job === null || job === undefined || job.until > t) continue;
      workers[w] = null;
      if (job.behaviour.kind === 'hangs') {
        aws('AWS/Lambda', 'Errors', facts.ids.worker, t, 1);
        continue; // the message stays in flight until its visibility timeout
      }
      const { ok, points } = job.behaviour;
      for (const p of points) push(custom(p.name), p.scope === 'credential' ? job.message.group : '', { t, value: p.value });
      const response = await processFifoBatch([sqsRecord(job.message)], async () => ({ ok, retry: retryOf(true) }), SILENT);
      if (response.batchItemFailures.length === 0) queue = queue.filter((m) => m !== job.message);
    }
    // Deliveries: FIFO, one in-flight message per group, batch size 1.
    for (let w = 0; w < workers.length; w++) {
      if (workers[w] !== null) continue;
      const inFlight = new Set(queue.filter((m) => m.hiddenUntil > t).map((m) => m.group));
      const next = queue.find((m) => m.hiddenUntil <= t && !inFlight.has(m.group) && queue.find((x) => x.group === m.group) === m);
      if (next === undefined) break;
      if (next.receives >= facts.maxReceiveCount) {
        queue = queue.filter((m) => m !== next);
        dlq++;
        w--;
        continue;
      }
      next.receives++;
      next.hiddenUntil = t + facts.visibilitySeconds;
      const behaviour = scenario.run(next.group, t);
      const until = behaviour.kind === 'hangs' ? t + facts.workerTimeoutSeconds : t + Math.min(behaviour.seconds, facts.workerTimeoutSeconds);
      workers[w] = { until, message: next, behaviour };
    }
    if (t % 60 === 0) {
      aws('AWS/SQS', 'ApproximateNumberOfMessagesVisible', facts.ids.dlq, t, dlq);
      const oldest = queue.reduce((min, m) => Math.min(min, m.sentAt), Number.POSITIVE_INFINITY);
      aws('AWS/SQS', 'ApproximateAgeOfOldestMessage', facts.ids.queue, t, queue.length === 0 ? 0 : t - oldest);
    }
  }
  return timelines;
}

// ---------------------------------------------------------------------------------------------

/** CloudWatch makes a datapoint visible to alarms about a minute after it was sent. */
export const INGESTION_DELAY_SECONDS = 60;
/** Metrics Insights alarms see only the latest 3 hours of data. */
export const INSIGHTS_WINDOW_SECONDS = 3 * 3600;

export interface Firing {
  alarm: string;
  /** The credential for a per-credential contributor, '' for a deployment-wide alarm. */
  contributor: string;
  /** When the contributor first went to ALARM. */
  at: number;
}

type Stat = (values: number[]) => number;
const STATS: Record<string, Stat> = {
  SUM: (v) => v.reduce((a, b) => a + b, 0),
  Sum: (v) => v.reduce((a, b) => a + b, 0),
  MIN: (v) => Math.min(...v),
  MAX: (v) => Math.max(...v),
  Maximum: (v) => Math.max(...v),
};

function breaches(spec: AlarmSpec, value: number): boolean {
  switch (spec.comparison) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= spec.threshold;
    case 'GreaterThanThreshold':
      return value > spec.threshold;
    case 'LessThanThreshold':
      return value < spec.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= spec.threshold;
  }
}

/** One value per period (index k covers [k·P, (k+1)·P)), or undefined when no datapoint fell in it. */
function periodValue(points: readonly Datapoint[], k: number, period: number, stat: Stat, now: number): number | undefined {
  const inside = points.filter((p) => p.t >= k * period && p.t < (k + 1) * period && p.t + INGESTION_DELAY_SECONDS <= now).map((p) => p.value);
  return inside.length === 0 ? undefined : stat(inside);
}

type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/**
 * The next state of one series at `now`, from the alarm's last complete periods. Periods before
 * `firstPeriod` (before the deployment, or before a contributor's first datapoint) did not exist
 * for this series: they never breach, whatever the missing-data treatment. That is the replay's
 * assumption about CloudWatch for a contributor that joins a running alarm (see docs/decisions.md).
 */
function nextState(spec: AlarmSpec, series: (k: number) => number | undefined, firstPeriod: number, now: number, current: State): State {
  const last = Math.floor(now / spec.periodSeconds) - 1;
  if (last < firstPeriod) return current;
  const window: Array<number | undefined> = [];
  for (let k = last; k > last - spec.evaluationPeriods && k >= firstPeriod; k--) window.push(series(k));
  let judged: boolean[];
  if (spec.missing === 'breaching' || spec.missing === 'notBreaching') {
    judged = window.map((v) => (v === undefined ? spec.missing === 'breaching' : breaches(spec, v)));
  } else {
    const present = window.filter((v): v is number => v !== undefined);
    if (present.length === 0) return spec.missing === 'ignore' ? current : 'INSUFFICIENT_DATA';
    // CloudWatch fills the evaluation range from older datapoints when some are missing.
    for (let k = last - spec.evaluationPeriods; k >= firstPeriod && present.length < spec.evaluationPeriods; k--) {
      const v = series(k);
      if (v !== undefined) present.push(v);
    }
    judged = present.map((v) => breaches(spec, v));
  }
  return judged.filter(Boolean).length >= spec.datapointsToAlarm ? 'ALARM' : 'OK';
}

/** Evaluates every alarm once a minute over the timelines; returns each contributor's first ALARM. */
export function evaluate(facts: TemplateFacts, timelines: Timelines, horizonSeconds: number): Firing[] {
  const firings: Firing[] = [];
  for (const spec of facts.alarms) {
    const states = new Map<string, State>();
    const fired = new Set<string>();
    for (let now = 60; now <= horizonSeconds; now += 60) {
      const series = new Map<string, { values: (k: number) => number | undefined; first: number }>();
      const src = spec.source;
      if (src.kind === 'insights') {
        const byCredential = timelines.custom.get(src.metric) ?? new Map<string, Datapoint[]>();
        const stat = STATS[src.fn] as Stat;
        const recent = (points: readonly Datapoint[]): Datapoint[] => points.filter((p) => p.t >= now - INSIGHTS_WINDOW_SECONDS && p.t + INGESTION_DELAY_SECONDS <= now);
        if (src.groupBy) {
          for (const [credential, points] of byCredential) {
            if (credential === '' || recent(points).length === 0) continue;
            const first = Math.floor(Math.min(...points.map((p) => p.t)) / spec.periodSeconds);
            series.set(credential, { values: (k) => periodValue(recent(points), k, spec.periodSeconds, stat, now), first });
          }
        } else {
          const all = [...byCredential.values()].flat();
          series.set('', { values: (k) => periodValue(recent(all), k, spec.periodSeconds, stat, now), first: 0 });
        }
      } else if (src.kind === 'aws') {
        const points = timelines.aws.get(`${src.namespace}/${src.metric}/${src.resource}`) ?? [];
        const stat = STATS[src.statistic] as Stat;
        series.set('', { values: (k) => periodValue(points, k, spec.periodSeconds, stat, now), first: 0 });
      } else {
        const parts = src.parts.map((p) => timelines.aws.get(`${p.namespace}/${p.metric}/${p.resource}`) ?? []);
        series.set('', {
          values: (k) => {
            const values = parts.map((points) => periodValue(points, k, spec.periodSeconds, STATS.Sum as Stat, now));
            // Metric math yields no value when every input is missing.
            return values.every((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0);
          },
          first: 0,
        });
      }
      for (const [contributor, { values, first }] of series) {
        const state = nextState(spec, values, first, now, states.get(contributor) ?? 'INSUFFICIENT_DATA');
        states.set(contributor, state);
        if (state === 'ALARM' && !fired.has(contributor)) {
          fired.add(contributor);
          firings.push({ alarm: spec.name, contributor, at: now });
        }
      }
    }
  }
  return firings.sort((a, b) => a.at - b.at || a.alarm.localeCompare(b.alarm) || a.contributor.localeCompare(b.contributor));
}
