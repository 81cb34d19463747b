/**
 * AWS list prices the cost model uses (USD, on-demand, no free tier), each with where it came
 * from. The bench cannot browse; these were looked up in stored copies of public pages (the
 * project's `search` tool, docs/pages corpora) on the date given in `checked`. Where a figure for
 * eu-west-1 was not found, the figure used is for the region named in `region`, and the note says
 * so. bench/README.md lists the same table.
 */

export interface Price {
  usd: number;
  unit: string;
  region: string;
  /** Where the figure was read (page and its date, when it shows one). */
  source: string;
  note?: string;
}

export const PRICES_CHECKED = '2026-11-23';

export const PRICES = {
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second, Lambda arm64 (first 7.5 billion GB-s per month)',
    region: 'eu-west-1',
    source:
      'cloudchipr.com/blog/aws-lambda-pricing (2024 guide: "ARM … $0.0000133334 per GB-second"); artillery@2.0.28 lib/platform/aws-lambda/prices.js lists arm64 1333340e-11 as the base rate, eu-west-1 not among the exceptions',
  },
  lambdaRequest: {
    usd: 0.2 / 1_000_000,
    unit: 'request (invocation), $0.20 per million',
    region: 'all commercial regions',
    source: 'api-evangelist/aws-lambda plans pricing, transcribed from aws.amazon.com/lambda/pricing on 2026-09-20 ("$0.20 per million requests")',
  },
  dynamoWriteRequestUnit: {
    usd: 0.625 / 1_000_000,
    unit: 'write request unit, on-demand, $0.625 per million',
    region: 'us-east-1',
    source: 'airbyte.com/data-engineering-resources/dynamodb-pricing (2025-07-21, after the 2024-11-01 50% on-demand cut)',
    note: 'eu-west-1 figure not found in the corpus; Ireland lists about 13% above us-east-1. Effect on the totals is below $0.001 per credential-month.',
  },
  dynamoReadRequestUnit: {
    usd: 0.125 / 1_000_000,
    unit: 'read request unit, on-demand, $0.125 per million',
    region: 'us-east-1',
    source: 'airbyte.com/data-engineering-resources/dynamodb-pricing (2025-07-21)',
    note: 'as for write request units',
  },
  sqsFifoRequest: {
    usd: 0.5 / 1_000_000,
    unit: 'FIFO request (64 KB chunk), $0.50 per million',
    region: 'us-east-1',
    source: 'cloudburn.io/blog/amazon-sqs-pricing (2026-03-14: "FIFO $0.50/M (flat rate)"); factualminds.com SQS pricing post (June 2026)',
    note: 'eu-west-1 lists the same FIFO rate to our knowledge; not confirmed in the corpus',
  },
  secretMonth: {
    usd: 0.4,
    unit: 'secret per month',
    region: 'all commercial regions',
    source: 'hivebook.wiki AWS Secrets Manager page ("$0.40 per secret per month + $0.05 per 10k API calls")',
  },
  secretsApiCall: {
    usd: 0.05 / 10_000,
    unit: 'API call, $0.05 per 10,000',
    region: 'all commercial regions',
    source: 'hivebook.wiki AWS Secrets Manager page',
  },
  customMetricMonth: {
    usd: 0.3,
    unit: 'custom metric per month (first 10,000)',
    region: 'us-east-1',
    source: 'cal53.calculator.city CloudWatch custom metrics calculator ("$0.30 per metric per month for the first 10,000")',
    note: 'EMF metrics are custom metrics: each metric name × dimension set counts once',
  },
  alarmMonth: {
    usd: 0.1,
    unit: 'standard-resolution alarm per month',
    region: 'us-east-1',
    source: 'c3x.dev/resources/aws/aws_cloudwatch_metric_alarm ("$0.10/alarm-month for standard resolution")',
    note: 'a Metrics Insights alarm is priced per metric its query analyses (aws.amazon.com/cloudwatch/pricing, Alarms tab, as we read it; the rate per metric not confirmed in the corpus): the model bills each credential\'s analysed metrics at this rate',
  },
  dashboardMonth: {
    usd: 3,
    unit: 'custom dashboard per month (beyond the free 3)',
    region: 'all commercial regions',
    source: 'factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards (2026-06-13: "dashboards at $3 each"); aws.amazon.com/cloudwatch/pricing free tier: 3 custom dashboards',
  },
  kmsKeyMonth: {
    usd: 1,
    unit: 'customer managed KMS key per month (each rotated backing key adds $1)',
    region: 'all commercial regions',
    source: 'aws.amazon.com/kms/pricing ("Each AWS KMS key that you create in KMS costs $1/month")',
  },
  natGatewayHour: {
    usd: 0.048,
    unit: 'NAT gateway hour',
    region: 'eu-west-1',
    source: 'cloudpipelines.pages.dev/guides/aws-nat-gateway-pricing-2026 ("Europe (Ireland, Frankfurt, London) ~$0.048–$0.052"; us-east-1 $0.045)',
  },
  natGatewayGb: {
    usd: 0.048,
    unit: 'GB processed by the NAT gateway',
    region: 'eu-west-1',
    source: 'cloudpipelines.pages.dev/guides/aws-nat-gateway-pricing-2026 (same table)',
  },
  ec2T4gNanoHour: {
    usd: 0.0042,
    unit: 'EC2 t4g.nano Linux on-demand instance hour (the NAT instance)',
    region: 'us-east-1',
    source:
      'on-demand price tables in public cost tools (code corpus, several independent repositories list "t4g.nano": 0.0042 with t3.nano 0.0052 and t4g.micro 0.0084, us-east-1 list prices; checked 2026-12-01)',
    note: 'eu-west-1 figure not found in the corpus; Ireland lists about 10% above us-east-1 for T-family instances, i.e. about $0.30 a month more.',
  },
  ebsGp3GbMonth: {
    usd: 0.08,
    unit: 'EBS gp3 GB-month (the NAT instance\'s root volume; 3,000 IOPS and 125 MB/s included)',
    region: 'us-east-1',
    source: 'menuvis1-blip.github.io Amazon EBS overview (2026-02-24: "gp3 … $0.08/GB with 3,000 IOPS included"); the same 0.08 in public cost tools (code corpus); checked 2026-12-01',
    note: 'eu-west-1 lists about 10% higher (≈ $0.088); on 8 GiB that is $0.06 a month.',
  },
  publicIpv4Hour: {
    usd: 0.005,
    unit: 'public IPv4 address hour (the Elastic IP of either NAT)',
    region: 'all commercial regions',
    source: 'doit.com "AWS Public IPv4 price increase — the complete guide"; community.aws (2024-02-08): $0.005 per IP per hour since 2024-02-01',
  },
} as const satisfies Record<string, Price>;

export type PriceTable = { readonly [K in keyof typeof PRICES]: Price };
