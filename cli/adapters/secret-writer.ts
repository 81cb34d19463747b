/**
 * Writes a credential's bunq context to Secrets Manager for bootstrap: CreateSecret the first time,
 * PutSecretValue after that. Reads go through the runtime's own parser, so bootstrap accepts exactly
 * what the reconciler can use. Nothing here ever prints a value.
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { parseBunqContext } from '../../lambdas/aws/context-store';
import type { BunqContext } from '../../lambdas/bunq/types';

/** What bootstrap needs from wherever contexts are kept (Secrets Manager here, memory in the demo). */
export interface ContextSecrets {
  /** null when the secret does not exist; throws when it exists but is not a valid context. */
  read(secretName: string): Promise<BunqContext | null>;
  write(secretName: string, context: BunqContext): Promise<'created' | 'updated'>;
}

export class SecretsManagerContextSecrets implements ContextSecrets {
  constructor(
    private readonly sm: SecretsManagerClient,
    private readonly options: { kmsKeyId?: string; description?: string } = {},
  ) {}

  async read(secretName: string): Promise<BunqContext | null> {
    try {
      const reply = await this.sm.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSCURRENT' }));
      if (typeof reply.SecretString !== 'string') return null;
      return parseBunqContext(secretName, reply.SecretString);
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return null;
      throw err;
    }
  }

  async write(secretName: string, context: BunqContext): Promise<'created' | 'updated'> {
    const text = JSON.stringify(context);
    try {
      await this.sm.send(
        new CreateSecretCommand({
          Name: secretName,
          SecretString: text,
          Description: this.options.description ?? 'bunq API context for bunq-ip-reconciler (written by bunq-ip bootstrap)',
          ...(this.options.kmsKeyId !== undefined ? { KmsKeyId: this.options.kmsKeyId } : {}),
        }),
      );
      return 'created';
    } catch (err) {
      if (!(err instanceof ResourceExistsException)) throw err;
    }
    await this.sm.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: text }));
    return 'updated';
  }
}
