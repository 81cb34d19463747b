/**
 * What every command receives: the terminal, the output mode, settings, and factories for the
 * stores (built on first use). Commands stay thin: parse input, call a service, print a format.
 */
import { ContextStore } from '../lambdas/aws/context-store';
import { CredentialOwners } from '../lambdas/aws/credential-owner';
import { DesiredStore } from '../lambdas/aws/desired-store';
import { historyTtlDaysFrom } from '../lambdas/aws/env';
import { secretRedactor } from '../lambdas/shared/redact';
import { StateStore } from '../lambdas/aws/state-store';
import type { Logger } from '../lambdas/shared/logger';
import type { Clock } from '../lambdas/shared/clock';
import type { CliAwsClients } from './adapters/aws';
import { DesiredWriter } from './adapters/desired-writer';
import type { CliIo } from './io';
import { requireDesiredTable, requireStateTable, type CliSettings } from './settings';
import type { Style } from './style';

export interface CommandContext {
  io: CliIo;
  style: Style;
  json: boolean;
  verbose: boolean;
  settings: CliSettings;
  aws: CliAwsClients;
  clock: Clock;
  logger: Logger;
}

export function printJson(ctx: CommandContext, value: unknown): void {
  // The replacer blanks secret-named keys and known secret values, whatever a command hands in.
  ctx.io.out(JSON.stringify(value, (k, v: unknown) => secretRedactor.replacer(k, v), 2));
}

export function desiredStore(ctx: CommandContext): DesiredStore {
  return new DesiredStore(ctx.aws.dynamo(), requireDesiredTable(ctx.settings));
}

export function desiredWriter(ctx: CommandContext): DesiredWriter {
  return new DesiredWriter(ctx.aws.dynamo(), requireDesiredTable(ctx.settings));
}

export function stateStore(ctx: CommandContext): StateStore {
  return new StateStore(ctx.aws.dynamo(), requireStateTable(ctx.settings), historyTtlDaysFrom(ctx.io.env));
}

/** Owner records live in ReconcileState and name configs in DesiredIps: both tables are needed. */
export function credentialOwners(ctx: CommandContext): CredentialOwners {
  return new CredentialOwners(ctx.aws.dynamo(), { stateTable: requireStateTable(ctx.settings), desiredTable: requireDesiredTable(ctx.settings) });
}

export function contextStore(ctx: CommandContext): ContextStore {
  return new ContextStore(ctx.aws.secrets(), { secretPrefix: ctx.settings.secretPrefix, clock: ctx.clock });
}

/** Logs go to stderr, redacted, and only with --verbose: stdout stays the command's result. */
export function cliLogger(io: CliIo, verbose: boolean): Logger {
  const write = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    if (!verbose) return;
    const extra = attributes === undefined ? '' : ` ${JSON.stringify(secretRedactor.redact(attributes))}`;
    io.err(`[${level}] ${secretRedactor.redactString(message)}${extra}`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
