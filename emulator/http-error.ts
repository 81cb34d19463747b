/** A bunq-style error reply raised from deep inside request handling. */
export class EmulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly additional?: unknown[],
  ) {
    super(description);
    this.name = 'EmulatorHttpError';
  }
}
