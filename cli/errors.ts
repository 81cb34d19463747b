/**
 * The CLI's exit codes and its one error type. An error the operator can act on is a CliError with
 * a one-line message; anything else is reported as unexpected (details only with --verbose).
 */

export const ExitCode = {
  Ok: 0,
  Failure: 1,
  /** `plan`: the credential has drift. Also used by scripts to mean "changes pending". */
  Drift: 2,
  /** Wrong command line: unknown flag, missing argument (sysexits EX_USAGE). */
  Usage: 64,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.Failure,
    /** Extra lines shown only with --verbose. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(hint === undefined ? message : `${message} (${hint})`, ExitCode.Usage);
}
