import type { Context } from 'aws-lambda';

/** A Lambda context as the runtime hands one to a handler: a request id and the time left. */
export function fakeLambdaContext(awsRequestId: string, remainingMs = 300_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'reconciler-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:reconciler-test',
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName: '/aws/lambda/reconciler-test',
    logStreamName: '2026/12/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
