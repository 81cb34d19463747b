import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface FixedEgressProps {
  logRetention: logs.RetentionDays;
}

/**
 * A VPC whose private subnets reach the internet through one NAT gateway holding one Elastic IP,
 * so every call the worker makes to bunq comes from a single address the operator can whitelist
 * (and protect in the credential's config). Only built when egress mode is 'nat'.
 */
export class FixedEgress extends Construct {
  readonly vpc: ec2.Vpc;
  readonly elasticIp: ec2.CfnEIP;

  constructor(scope: Construct, id: string, props: FixedEgressProps) {
    super(scope, id);

    this.elasticIp = new ec2.CfnEIP(this, 'ElasticIp', { domain: 'vpc' });

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.80.0.0/20'),
      // Two AZs keep the worker placeable when one AZ is impaired; one NAT keeps one egress address
      // (and one hourly NAT charge) — if its AZ fails, runs fail and the alarms say so.
      maxAzs: 2,
      natGateways: 1,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: [this.elasticIp.attrAllocationId] }),
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
      // The restriction is a custom resource (its own Lambda and role); nothing here uses the
      // default security group, the worker gets a dedicated one.
      restrictDefaultSecurityGroup: false,
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });

    // DynamoDB traffic stays on the AWS network and off the NAT's per-GB charge; gateway endpoints are free.
    this.vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
  }
}
