import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { aliasArgs, HANDLER_BUNDLING } from './handler-bundling';

/** Repository root: the handlers, package-lock.json and the local esbuild live there. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface ReconcilerFunctionProps {
  /** Handler file under lambdas/handlers, without extension (it exports `handler`). */
  handlerFile: string;
  description: string;
  timeout: Duration;
  memorySize: number;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  /** Places the function in the VPC's private subnets so it leaves through the NAT (instance or gateway). */
  vpc?: ec2.IVpc;
}

/**
 * A NodejsFunction with the project's defaults: Node 24 on arm64, bundled by the local esbuild
 * (never Docker), minified with source maps, its own log group with a retention, and a role that
 * can write to that log group only — instead of the AWS managed basic-execution policy, whose
 * `logs:CreateLogGroup` on every log group in the account is more than a handler needs.
 */
export class ReconcilerFunction extends NodejsFunction {
  readonly logGroupResource: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReconcilerFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      // Logs are an operational trail, not the audit log (that is ReconcileState); they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${id} function (bunq-ip-reconciler)`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    if (props.vpc !== undefined) {
      // Lambda needs to create and remove its ENIs in the VPC.
      role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'AWS-maintained minimal policy Lambda needs to attach to a VPC (ec2 network-interface actions, which support no resource-level scoping); used only by the worker, in the NAT egress modes.',
      });
    }

    super(scope, id, {
      entry: path.join(PROJECT_ROOT, 'lambdas', 'handlers', `${props.handlerFile}.ts`),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
      },
      ...(props.vpc !== undefined
        ? { vpc: props.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }
        : {}),
      bundling: {
        minify: HANDLER_BUNDLING.minify,
        sourceMap: HANDLER_BUNDLING.sourceMap,
        externalModules: [...HANDLER_BUNDLING.externalModules],
        mainFields: [...HANDLER_BUNDLING.mainFields],
        format: OutputFormat.CJS,
        target: HANDLER_BUNDLING.target,
        esbuildArgs: aliasArgs(),
        forceDockerBundling: false,
      },
    });
    this.logGroupResource = logGroup;

  }
}
