/**
 * Counts the AWS API calls an SDK client makes, with the sizes DynamoDB bills by, through an SDK
 * middleware (the calls themselves go to moto unchanged). Lets the cost model price what a run
 * actually did instead of what we think it does.
 */

import { performance } from 'node:perf_hooks';

export interface CallRecord {
  service: string;
  command: string;
  requestBytes: number;
  /** JSON size of the items a read returned (DynamoDB Query/GetItem/Scan). */
  itemBytes: number;
  /** Items a write carried (1 for PutItem/UpdateItem, n for batch/transact). */
  writeItems: number;
  /** Wall time of the call, including the SDK's own work. */
  ms: number;
  /** performance.now() when the call started: concurrent calls overlap. */
  startedMs: number;
}

/** Wall time during which at least one of the calls was in flight (overlaps counted once). */
export function busyMs(calls: readonly CallRecord[]): number {
  const spans = calls.map((c) => [c.startedMs, c.startedMs + c.ms] as const).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of spans) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

export class AwsMeter {
  readonly calls: CallRecord[] = [];

  /** Adds the counting middleware to a client (idempotent per client). */
  attach(service: string, client: { middlewareStack: object }): void {
    const name = `benchAwsMeter${service}`;
    // Every SDK v3 client has this stack; its generic types differ per client, the shape does not.
    const stack = client.middlewareStack as { add: AddMiddleware; remove(name: string): boolean };
    stack.remove(name);
    stack.add(
      (next, context) => async (args) => {
        const started = performance.now();
        const result = await next(args);
        const ms = performance.now() - started;
        const request = (args as { request?: { body?: unknown } }).request;
        const body = typeof request?.body === 'string' ? request.body : '';
        const output = (result as { output?: Record<string, unknown> }).output ?? {};
        const items = Array.isArray(output.Items) ? output.Items : output.Item !== undefined ? [output.Item] : [];
        this.calls.push({
          service,
          command: String((context as { commandName?: unknown }).commandName ?? 'unknown'),
          requestBytes: Buffer.byteLength(body),
          itemBytes: items.length === 0 ? 0 : Buffer.byteLength(JSON.stringify(items)),
          writeItems: writeItemsOf(body),
          ms,
          startedMs: started,
        });
        return result;
      },
      { step: 'deserialize', name },
    );
  }

  mark(): number {
    return this.calls.length;
  }

  since(mark: number): CallRecord[] {
    return this.calls.slice(mark);
  }
}

type AddMiddleware = (
  middleware: (next: (args: unknown) => Promise<unknown>, context: unknown) => (args: unknown) => Promise<unknown>,
  options: { step: 'deserialize'; name: string },
) => void;

function writeItemsOf(body: string): number {
  if (body === '') return 0;
  try {
    const parsed = JSON.parse(body) as { TransactItems?: unknown[]; RequestItems?: Record<string, unknown[]>; Item?: unknown; Key?: unknown };
    if (Array.isArray(parsed.TransactItems)) return parsed.TransactItems.length;
    if (parsed.RequestItems) return Object.values(parsed.RequestItems).reduce((n, list) => n + list.length, 0);
    return parsed.Item !== undefined || parsed.Key !== undefined ? 1 : 0;
  } catch {
    return 0;
  }
}

const DYNAMO_WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);
const DYNAMO_STRONG_READS = new Set(['QueryCommand', 'GetItemCommand']);

export interface BillingUnits {
  dynamoReadUnits: number;
  dynamoWriteUnits: number;
  secretsCalls: number;
  sqsRequests: number;
  byCommand: Record<string, number>;
}

/**
 * DynamoDB units as on-demand bills them, estimated from sizes on the wire: a write costs
 * ceil(size / 1 KB) per item (×2 in a transaction), a strongly consistent read ceil(size / 4 KB)
 * (at least 1), a scan half that (eventually consistent). Request JSON is a little larger than
 * DynamoDB's item size, so writes are slightly overestimated.
 */
export function billingUnits(calls: readonly CallRecord[], consistentReads = true): BillingUnits {
  const out: BillingUnits = { dynamoReadUnits: 0, dynamoWriteUnits: 0, secretsCalls: 0, sqsRequests: 0, byCommand: {} };
  for (const c of calls) {
    const key = `${c.service}.${c.command.replace(/Command$/, '')}`;
    out.byCommand[key] = (out.byCommand[key] ?? 0) + 1;
    if (c.service === 'DynamoDB') {
      if (DYNAMO_WRITES.has(c.command)) {
        const items = Math.max(1, c.writeItems);
        const perItem = Math.max(1, Math.ceil(c.requestBytes / items / 1024));
        out.dynamoWriteUnits += perItem * items * (c.command === 'TransactWriteItemsCommand' ? 2 : 1);
      } else if (DYNAMO_STRONG_READS.has(c.command) || c.command === 'ScanCommand') {
        const units = Math.max(1, Math.ceil(c.itemBytes / 4096));
        out.dynamoReadUnits += c.command === 'ScanCommand' || !consistentReads ? units / 2 : units;
      }
    } else if (c.service === 'SecretsManager') {
      out.secretsCalls++;
    } else if (c.service === 'SQS') {
      // SQS bills each 64 KB chunk of a request as one request.
      out.sqsRequests += Math.max(1, Math.ceil(c.requestBytes / 65_536));
    }
  }
  return out;
}
