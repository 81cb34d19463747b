import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { EgressMode } from './config';

export type FixedEgressMode = Exclude<EgressMode, 'none'>;

export interface FixedEgressProps {
  mode: FixedEgressMode;
  logRetention: logs.RetentionDays;
}

const VPC_CIDR = '10.80.0.0/20';

/**
 * CDK's own Amazon Linux 2023 NAT set-up, with the package install retried: the instance boots on an
 * auto-assigned public IP, and the Elastic IP association that follows swaps it, which can break a
 * download in flight. Without iptables-services the instance forwards nothing.
 */
function natUserData(): ec2.UserData {
  const userData = ec2.UserData.forLinux();
  userData.addCommands(
    ...ec2.NatInstanceProviderV2.DEFAULT_USER_DATA_COMMANDS.map((c) =>
      c.startsWith('yum install') ? `for attempt in 1 2 3 4 5 6 7 8 9 10; do ${c} && break; sleep 15; done` : c,
    ),
  );
  return userData;
}

/**
 * A VPC whose private subnets (where the worker runs) reach the internet through one NAT holding one
 * Elastic IP, so every call the worker makes to bunq comes from a single address the operator
 * whitelists and protects. The NAT is either one t4g.nano instance (`nat-instance`, ≈ $7/month: the
 * reconciler is in no data path, bunq keeps the whitelist while it is down) or AWS's managed NAT
 * gateway (`nat-gateway`, ≈ $36/month).
 */
export class FixedEgress extends Construct {
  readonly mode: FixedEgressMode;
  readonly vpc: ec2.Vpc;
  readonly elasticIp: ec2.CfnEIP;
  /** The NAT instance (`nat-instance` mode only). */
  readonly natInstance: ec2.Instance | undefined;

  constructor(scope: Construct, id: string, props: FixedEgressProps) {
    super(scope, id);
    this.mode = props.mode;

    // The address bunq whitelists. It belongs to the stack, not to the NAT: a replaced instance (a new
    // AMI at deploy time) gets the same address back through the association below. Each NAT mode
    // has its own: the NAT being replaced still holds its address while CloudFormation creates the
    // new one, so one address cannot move between them in a deploy. The gateway's keeps the id it
    // always had, so deployments made with `egress=nat` keep their whitelisted address.
    this.elasticIp = new ec2.CfnEIP(this, props.mode === 'nat-gateway' ? 'ElasticIp' : 'NatInstanceElasticIp', { domain: 'vpc' });

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const natInstanceProvider =
      props.mode === 'nat-instance'
        ? ec2.NatProvider.instanceV2({
            instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO),
            // An SSM-parameter image: CloudFormation resolves the current AL2023 AMI at deploy time,
            // so `cdk synth` needs no AWS lookup and stays offline.
            machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
            // Standard credits: a NAT for a few HTTPS calls a minute never needs to burst, and
            // unlimited credits could bill surplus CPU if something misbehaves.
            creditSpecification: ec2.CpuCredits.STANDARD,
            // Inbound is opened below to the VPC only, never to the internet.
            defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
            userData: natUserData(),
          })
        : undefined;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(VPC_CIDR),
      // Two AZs keep the worker placeable when one AZ is impaired; one NAT keeps one egress address
      // (and one hourly NAT charge) — if its AZ fails, runs fail and the alarms say so.
      maxAzs: 2,
      natGateways: 1,
      natGatewayProvider: natInstanceProvider ?? ec2.NatProvider.gateway({ eipAllocationIds: [this.elasticIp.attrAllocationId] }),
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

    // DynamoDB traffic stays on the AWS network and off the NAT; gateway endpoints are free.
    this.vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });

    this.natInstance = natInstanceProvider === undefined ? undefined : this.configureNatInstance(natInstanceProvider);
  }

  /** The fixed public address the worker calls bunq from (a deploy-time token). */
  get publicIp(): string {
    return this.elasticIp.attrPublicIp;
  }

  private configureNatInstance(provider: ec2.NatInstanceProviderV2): ec2.Instance {
    const instance = provider.gatewayInstances[0];
    if (instance === undefined || provider.gatewayInstances.length !== 1) {
      throw new Error(`expected exactly one NAT instance, CDK made ${provider.gatewayInstances.length}`);
    }
    // The worker speaks HTTPS only (bunq, Secrets Manager); DynamoDB goes through the endpoint.
    provider.connections.allowFrom(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), 'HTTPS from the VPC (the worker) to be NATed');

    new ec2.CfnEIPAssociation(this, 'ElasticIpAssociation', {
      allocationId: this.elasticIp.attrAllocationId,
      instanceId: instance.instanceId,
    });

    // Encrypted root volume (the account's default EBS key) and IMDSv2 only.
    instance.instance.blockDeviceMappings = [
      { deviceName: '/dev/xvda', ebs: { encrypted: true, volumeType: 'gp3', deleteOnTermination: true } },
    ];
    // CDK's IMDSv2 aspect would name the launch template after the construct id, which collides with a
    // second stack in the same region; an unnamed template gets a generated name.
    const imdsv2 = new ec2.CfnLaunchTemplate(this, 'NatInstanceImdsv2', {
      launchTemplateData: { metadataOptions: { httpTokens: 'required' } },
    });
    instance.instance.launchTemplate = { launchTemplateId: imdsv2.ref, version: imdsv2.attrLatestVersionNumber };

    Validations.of(instance).acknowledge(
      {
        id: 'AwsSolutions-EC28',
        reason: 'Detailed monitoring would add 1-minute CPU/network metrics at about $2/month; the status checks the recovery alarms watch are 1-minute metrics without it, and a NAT outage shows up as failing runs.',
      },
      {
        id: 'AwsSolutions-EC29',
        reason: 'The NAT instance is replaced by design (a new Amazon Linux 2023 AMI at deploy time): termination protection would make that update fail. The address survives in the stack\'s Elastic IP, and recovery comes from the status-check alarm, not from an Auto Scaling group.',
      },
    );
    return instance;
  }

  /**
   * Status-check alarms on the NAT instance: a failed system check recovers the instance onto
   * healthy hardware (same instance id, private IP and Elastic IP); a failed instance check reboots it.
   * Both notify the topic. Nothing in `nat-gateway` mode (AWS runs the gateway).
   */
  addHealthAlarms(topic: sns.ITopic, stackName: string): cloudwatch.Alarm[] {
    const instance = this.natInstance;
    if (instance === undefined) return [];
    const statusCheck = (metricName: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/EC2',
        metricName,
        dimensionsMap: { InstanceId: instance.instanceId },
        statistic: 'Maximum',
        period: Duration.minutes(1),
      });
    const make = (name: string, metricName: string, ec2Action: actions.Ec2InstanceAction, evaluationPeriods: number, description: string): cloudwatch.Alarm => {
      const alarm = new cloudwatch.Alarm(this, `${name}Alarm`, {
        alarmName: `${stackName}-${name}`,
        metric: statusCheck(metricName),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods,
        // A stopped or terminated instance reports nothing; RunsFailing covers what that means.
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(new actions.Ec2Action(ec2Action), new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
      return alarm;
    };
    return [
      make('NatInstanceSystemCheck', 'StatusCheckFailed_System', actions.Ec2InstanceAction.RECOVER, 2,
        'Means: the NAT instance the worker calls bunq through failed its EC2 system status check (AWS hardware, power or network), so runs fail until it is back; bunq keeps the whitelist meanwhile. ' +
        'EC2 is recovering it automatically onto healthy hardware (same instance, private IP and Elastic IP). ' +
        'Do: wait for OK; if it stays in ALARM, stop and start the instance in the EC2 console or redeploy the stack, then check `bunq-ip status`.'),
      make('NatInstanceStatusCheck', 'StatusCheckFailed_Instance', actions.Ec2InstanceAction.REBOOT, 3,
        'Means: the NAT instance failed its instance status check (its operating system stopped responding), so runs fail until it is back; bunq keeps the whitelist meanwhile. ' +
        'The alarm reboots it. Do: if it stays in ALARM after the reboot, read the instance\'s system log in the EC2 console and redeploy the stack (a new instance keeps the Elastic IP).'),
    ];
  }
}
