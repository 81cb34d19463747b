/**
 * Operator writes to the DesiredIps table: one desired IP, its removal, a whole import in one
 * transaction, and the credential's config item. Reading stays with lambdas/aws/desired-store.ts,
 * so the CLI sees the table exactly as the reconciler does.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactItem } from '../../lambdas/aws/credential-owner';
import { CONFIG_ENTRY, IP_ENTRY_PREFIX } from '../../lambdas/aws/desired-store';
import type { Mode } from '../../lambdas/core/types';
import { SORT_KEY } from '../../lambdas/shared/table-keys';

export interface DesiredIpInput {
  ip: string;
  note?: string;
  /** Epoch seconds (the table's TTL attribute). */
  expiresAt?: number;
}

export interface ConfigIdentity {
  userId: number;
  credentialPasswordIpId: number;
  secretName: string;
}

/** Policy fields: written when given, otherwise kept (or defaulted on a new item). */
export interface ConfigPolicy {
  mode?: Mode;
  maxDeactivationsPerRun?: number;
  protectedIps?: string[];
}

/** DynamoDB's limit on items in one transaction: the bound on an all-or-nothing import. */
export const MAX_TRANSACTION_ITEMS = 100;

export function ipEntry(ip: string): string {
  return `${IP_ENTRY_PREFIX}${ip}`;
}

export class DesiredWriter {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private item(credential: string, input: DesiredIpInput, updatedAt: string): Record<string, unknown> {
    return {
      credential,
      entry: ipEntry(input.ip),
      ip: input.ip,
      note: input.note,
      expiresAt: input.expiresAt,
      updatedAt,
      updatedBy: 'bunq-ip cli',
    };
  }

  /** @returns whether the IP was new or an existing item was replaced (note/expiry changed). */
  async putIp(credential: string, input: DesiredIpInput, updatedAt: string): Promise<'added' | 'updated'> {
    const reply = await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: this.item(credential, input, updatedAt), ReturnValues: 'ALL_OLD' }),
    );
    return reply.Attributes === undefined ? 'added' : 'updated';
  }

  /** @returns false when there was no such item. */
  async removeEntry(credential: string, entry: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { credential, entry },
          ConditionExpression: 'attribute_exists(#e)',
          ExpressionAttributeNames: { '#e': SORT_KEY },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /** Every put and delete in one transaction: either the whole import lands or none of it. */
  async importAll(credential: string, puts: readonly DesiredIpInput[], deleteEntries: readonly string[], updatedAt: string): Promise<void> {
    const total = puts.length + deleteEntries.length;
    if (total === 0) return;
    if (total > MAX_TRANSACTION_ITEMS) {
      throw new Error(`an import changes at most ${MAX_TRANSACTION_ITEMS} items in one transaction, this one ${total}`);
    }
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          ...puts.map((p) => ({ Put: { TableName: this.tableName, Item: this.item(credential, p, updatedAt) } })),
          ...deleteEntries.map((entry) => ({ Delete: { TableName: this.tableName, Key: { credential, entry } } })),
        ],
      }),
    );
  }

  /** The put of one desired IP, as an item of a transaction (bootstrap writes its IPs with the config). */
  ipPutItem(credential: string, input: DesiredIpInput, updatedAt: string): TransactItem {
    return { Put: { TableName: this.tableName, Item: this.item(credential, input, updatedAt) } };
  }

  /**
   * Creates or updates the config item, as an item of a transaction. Identity fields are always
   * written; policy fields only when given, so re-running bootstrap never undoes an operator's later
   * edits, and a new item gets `defaults`. A retirement is lifted: bootstrapping a name makes it live.
   */
  configUpdateItem(
    credential: string,
    identity: ConfigIdentity,
    policy: ConfigPolicy,
    defaults: Required<ConfigPolicy>,
    updatedAt: string,
  ): TransactItem {
    const names: Record<string, string> = { '#retiredAt': 'retiredAt', '#retiredInFavourOf': 'retiredInFavourOf' };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const set = (field: string, value: unknown, onlyIfMissing: boolean): void => {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(onlyIfMissing ? `#${field} = if_not_exists(#${field}, :${field})` : `#${field} = :${field}`);
    };
    set('userId', identity.userId, false);
    set('credentialPasswordIpId', identity.credentialPasswordIpId, false);
    set('secretName', identity.secretName, false);
    set('mode', policy.mode ?? defaults.mode, policy.mode === undefined);
    set('maxDeactivationsPerRun', policy.maxDeactivationsPerRun ?? defaults.maxDeactivationsPerRun, policy.maxDeactivationsPerRun === undefined);
    set('protectedIps', policy.protectedIps ?? defaults.protectedIps, policy.protectedIps === undefined);
    set('updatedAt', updatedAt, false);
    return {
      Update: {
        TableName: this.tableName,
        Key: { credential, entry: CONFIG_ENTRY },
        UpdateExpression: `SET ${sets.join(', ')} REMOVE #retiredAt, #retiredInFavourOf`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }
}
