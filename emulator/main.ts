/**
 * Standalone emulator for local runs and the demo:
 *   npm run emulator -- [--port N] [--seed N] [--session-timeout S] [--no-rate-limits] [--no-ip-whitelist]
 *                       [--profile NAME]...   (repeatable; see emulator/profiles.ts)
 * Prints the URL and the API key of one ready-made sandbox user; stops on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { EMULATOR_PROFILES, parseProfiles, startEmulator, type EmulatorOptions } from './index';

function integer(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      seed: { type: 'string' },
      'session-timeout': { type: 'string' },
      'no-rate-limits': { type: 'boolean', default: false },
      'no-ip-whitelist': { type: 'boolean', default: false },
      profile: { type: 'string', multiple: true, default: [] },
    },
  });
  const options: EmulatorOptions = { port: integer('port', values.port) ?? 0 };
  const seed = integer('seed', values.seed);
  if (seed !== undefined) options.seed = seed;
  const timeout = integer('session-timeout', values['session-timeout']);
  if (timeout !== undefined) options.sessionTimeoutSeconds = timeout;
  if (values['no-rate-limits']) options.rateLimits = false;
  if (values['no-ip-whitelist']) options.enforceIpWhitelist = false;
  const profiles = parseProfiles(values.profile);
  if (profiles.length > 0) options.profiles = profiles;

  const emulator = await startEmulator(options);
  const user = emulator.createUser({ displayName: 'Demo Person' });
  process.stdout.write(
    `bunq emulator listening on ${emulator.url} (API base ${emulator.url}/v1)\n` +
      `profiles: ${profiles.length > 0 ? profiles.join(', ') : `none (bunq's most likely answers; known: ${EMULATOR_PROFILES.join(', ')})`}\n` +
      `sandbox user ${user.userId}, credential ${user.credentialId}\n` +
      // Printed on purpose: a throwaway key for an in-memory emulator, so a developer can paste it.
      `API key: ${user.apiKey}\n`,
  );
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`emulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
