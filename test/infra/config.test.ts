import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, EGRESS_MODES, hasFixedEgress, parseConfig, rawConfigFrom, WORKER_DEADLINE_MARGIN_SECONDS } from '../../lib/config';
import { RECORDING_RETRY_BUDGET_MS, REQUIRED_DEADLINE_MARGIN_MS, RUN_DEADLINE_MARGIN_MS } from '../../lambdas/handlers/run-deadline';

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills every default when nothing is set', () => {
    expect(parseConfig({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({ scheduleMinutes: 5, egress: 'nat-instance', secretNamePrefix: 'bunq-ip-reconciler/', alarmEmail: undefined });
  });

  it('takes the three egress modes by name, and `nat` as the old name of nat-gateway', () => {
    expect(EGRESS_MODES).toEqual(['nat-instance', 'nat-gateway', 'none']);
    for (const mode of EGRESS_MODES) expect(parseConfig({ egress: mode }).egress).toBe(mode);
    expect(parseConfig({ egress: 'nat' }).egress).toBe('nat-gateway');
    expect(parseConfig({ egress: ' nat-instance ' }).egress).toBe('nat-instance');
    expect(() => parseConfig({ egress: 'constructor' })).toThrow(/egress must be one of/);
    expect(EGRESS_MODES.filter(hasFixedEgress)).toEqual(['nat-instance', 'nat-gateway']);
  });

  it('accepts strings from `-c key=value` and numbers from cdk.json alike', () => {
    const fromCli = parseConfig({ scheduleMinutes: '15', workerTimeoutSeconds: ' 300 ', egress: 'nat', alarmEmail: ' ops@example.com ' });
    const fromJson = parseConfig({ scheduleMinutes: 15, workerTimeoutSeconds: 300, egress: 'nat', alarmEmail: 'ops@example.com' });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({ scheduleMinutes: 15, workerTimeoutSeconds: 300, egress: 'nat-gateway', alarmEmail: 'ops@example.com' });
  });

  it('the worker timeout leaves room for the run deadline margin the runtime uses', () => {
    expect(WORKER_DEADLINE_MARGIN_SECONDS * 1000).toBe(RUN_DEADLINE_MARGIN_MS);
    // No bunq call outlives the deadline now, so the margin holds what runs after it: the recording
    // with slack, plus the AWS SDK's retries of the recording writes.
    expect(RUN_DEADLINE_MARGIN_MS).toBe(REQUIRED_DEADLINE_MARGIN_MS + RECORDING_RETRY_BUDGET_MS);
    expect(RUN_DEADLINE_MARGIN_MS).toBeGreaterThan(REQUIRED_DEADLINE_MARGIN_MS);
    // A default worker leaves the run most of its timeout for bunq.
    expect(DEFAULT_CONFIG.workerTimeoutSeconds - WORKER_DEADLINE_MARGIN_SECONDS).toBeGreaterThanOrEqual(240);
    expect(DEFAULT_CONFIG.workerTimeoutSeconds).toBeGreaterThanOrEqual(WORKER_DEADLINE_MARGIN_SECONDS + 60);
  });

  it('accepts the longest schedule every alarm can still look back over', () => {
    expect(parseConfig({ scheduleMinutes: 60, driftAlarmPeriods: 3, missedRunPeriods: 3 }).scheduleMinutes).toBe(60);
  });

  it('treats an empty string as unset', () => {
    expect(parseConfig({ alarmEmail: '', scheduleMinutes: '' })).toMatchObject({ alarmEmail: undefined, scheduleMinutes: 5 });
  });

  it.each([
    [{ scheduleMinutes: 'five' }, 'scheduleMinutes must be a whole number, got "five"'],
    [{ scheduleMinutes: '2.5' }, 'scheduleMinutes must be a whole number'],
    [{ scheduleMinutes: 0 }, 'scheduleMinutes must be between 1 and 1440, got 0'],
    [{ scheduleMinutes: 'rate(5 minutes)' }, 'scheduleMinutes must be a whole number'],
    [{ alarmEmail: 'ops@' }, 'alarmEmail must be an e-mail address'],
    [{ alarmEmail: 'ops example.com' }, 'alarmEmail must be an e-mail address'],
    [{ alarmEmail: 42 }, 'alarmEmail must be a string'],
    [{ egress: 'vpn' }, `egress must be one of 'nat-instance', 'nat-gateway', 'none' (or 'nat', an alias of 'nat-gateway'), got "vpn"`],
    [{ egress: 'NAT' }, 'egress must be one of'],
    [{ stackName: '1stack' }, 'stackName must start with a letter'],
    [{ secretNamePrefix: 'bunq ip/' }, 'secretNamePrefix may contain only'],
    [{ secretNamePrefix: 'bunq-ip-reconciler' }, 'secretNamePrefix must end with a separator'],
    [{ desiredTableName: 'x' }, 'desiredTableName must be 3-255 characters'],
    [{ desiredTableName: 'Same', stateTableName: 'Same' }, 'desiredTableName and stateTableName must differ'],
    [{ logRetentionDays: 10 }, "logRetentionDays must be one of CloudWatch's values"],
    [{ historyTtlDays: 0 }, 'historyTtlDays must be between 1 and 3650'],
    [{ workerTimeoutSeconds: 901 }, 'workerTimeoutSeconds must be between 90 and 900'],
    // The run stops starting bunq calls 60 s before the timeout: 89 s would leave under 30 s.
    [{ workerTimeoutSeconds: 89 }, 'workerTimeoutSeconds must be between 90 and 900'],
    [{ workerMaxConcurrency: 1 }, 'workerMaxConcurrency must be between 2 and 20'],
    [{ missedRunPeriods: 1 }, 'missedRunPeriods must be between 2 and 100'],
    [{ scheduleMinutes: 10, missedRunPeriods: 25 }, 'scheduleMinutes × missedRunPeriods must not exceed 180 minutes'],
    [{ scheduleMinutes: 50, driftAlarmPeriods: 4, missedRunPeriods: 2 }, 'scheduleMinutes × driftAlarmPeriods must not exceed 180 minutes'],
    [{ scheduleMinutes: 90, driftAlarmPeriods: 1, missedRunPeriods: 2 }, 'scheduleMinutes must be at most 60: the runs-failing alarm looks back 3 periods'],
    [{ changeEmail: 'nope' }, 'changeEmail must be an e-mail address'],
  ])('rejects %j with a message naming the key', (raw, message) => {
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('reports every problem at once, in one readable error', () => {
    let error: unknown;
    try {
      parseConfig({ scheduleMinutes: -1, alarmEmail: 'nope', egress: 'vpn' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/^Invalid bunq-ip-reconciler configuration:\n/);
    expect((error as ConfigError).problems).toHaveLength(3);
    for (const key of ['scheduleMinutes', 'alarmEmail', 'egress']) expect(message).toContain(`  - ${key}`);
  });

  it('reads only the keys it knows from the context', () => {
    const context: Record<string, unknown> = { egress: 'nat', '@aws-cdk/core:someFlag': true, unrelated: 1 };
    expect(rawConfigFrom((key) => context[key])).toEqual({ egress: 'nat' });
  });
});
