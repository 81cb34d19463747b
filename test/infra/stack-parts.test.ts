import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesize } from './synth';

// Every logical ID of the template, as main had them before the stack was split into parts
// (DataStores, ReconcilerFunctions, ReconcileTriggers). A changed ID is a new resource to
// CloudFormation: it replaces a retained table or queue, re-subscribes a topic, and cannot create a
// fixed-name alarm or table twice. Update this list only for a resource added or removed on purpose.
const PINNED = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'logical-ids.json'), 'utf8')) as Record<'default' | 'full', Record<string, string>>;

const idsOf = (context: Record<string, string>): Record<string, string> => {
  const resources = synthesize(context, { bundle: false }).template.toJSON().Resources as Record<string, { Type: string }>;
  return Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)));
};

describe('stack parts keep every logical ID', () => {
  it('default configuration (NAT instance egress)', () => {
    expect(idsOf({})).toEqual(PINNED.default);
  });

  it('every optional resource (change e-mail, alarm e-mail, named tables, another stack name)', () => {
    expect(idsOf({ changeEmail: 'c@example.com', alarmEmail: 'ops@example.com', desiredTableName: 'Desired1', stateTableName: 'State1', stackName: 'Other', scheduleMinutes: '10' })).toEqual(PINNED.full);
  });

  it('keeps the worker\'s security group description (it cannot change without replacing the group)', () => {
    const { template } = synthesize({}, { bundle: false });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Automatic security group for Lambda Function BunqIpReconcilerReconcileWorker9723180B',
    });
  });
});
