/**
 * Counts, from the synthesized stack itself (lib/, bundling skipped), what the cost model prices
 * per deployment in each egress mode: alarms, NAT gateways, NAT instances and their disks, Elastic
 * IPs, and the functions' memory sizes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import type { EgressMode } from '../../lib/config';

/**
 * The root volume of Amazon Linux 2023's AMI, which the NAT instance keeps when the template gives no
 * VolumeSize (CloudFormation resolves the AMI at deploy time, so the synth cannot read it).
 */
export const AL2023_ROOT_VOLUME_GB = 8;

export interface StackFacts {
  egress: EgressMode;
  /** Standard alarms (metric or metric math); Metrics Insights alarms are counted apart. */
  alarms: number;
  /** The metric each Metrics Insights alarm queries (one entry per alarm). */
  insightsAlarmMetrics: string[];
  dashboards: number;
  kmsKeys: number;
  natGateways: number;
  natInstances: number;
  /** Root volume GiB of the NAT instances together. */
  volumeGb: number;
  elasticIps: number;
  scheduleMinutes: number;
  /** Memory (MB) per function, by the handler's description prefix. */
  functionMemoryMb: Record<string, number>;
}

interface InstanceProps {
  BlockDeviceMappings?: { Ebs?: { VolumeSize?: number } }[];
}

export function stackFacts(egress: EgressMode): StackFacts {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  try {
    // An empty bundling-stacks list makes NodejsFunction skip esbuild: only the template is needed.
    const app = new App({ context: { egress, 'aws:cdk:bundling-stacks': [] }, outdir });
    const { stack, config } = buildApp(app);
    const template = Template.fromStack(stack);
    const count = (type: string): number => Object.keys(template.findResources(type)).length;
    const functionMemoryMb: Record<string, number> = {};
    for (const [id, res] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      const props = (res as { Properties?: { MemorySize?: number } }).Properties;
      if (typeof props?.MemorySize === 'number') functionMemoryMb[id] = props.MemorySize;
    }
    const instances = Object.values(template.findResources('AWS::EC2::Instance')) as { Properties?: InstanceProps }[];
    const volumeGb = instances.reduce(
      (sum, i) => sum + (i.Properties?.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize ?? AL2023_ROOT_VOLUME_GB),
      0,
    );
    const insightsAlarmMetrics: string[] = [];
    let standardAlarms = 0;
    for (const res of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      const metrics = (res as { Properties?: { Metrics?: Array<{ Expression?: string }> } }).Properties?.Metrics ?? [];
      const query = metrics.map((m) => /^SELECT \w+\((\w+)\) FROM SCHEMA/.exec(m.Expression ?? '')).find((m) => m !== null);
      if (query?.[1] !== undefined) insightsAlarmMetrics.push(query[1]);
      else standardAlarms++;
    }
    return {
      egress,
      alarms: standardAlarms,
      insightsAlarmMetrics,
      dashboards: count('AWS::CloudWatch::Dashboard'),
      kmsKeys: count('AWS::KMS::Key'),
      natGateways: count('AWS::EC2::NatGateway'),
      natInstances: instances.length,
      volumeGb,
      elasticIps: count('AWS::EC2::EIP'),
      scheduleMinutes: config.scheduleMinutes,
      functionMemoryMb,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
