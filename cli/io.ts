/**
 * The CLI's only contact with the terminal: output streams, standard input and prompts. Commands
 * take a CliIo, so what they print and ask is decided in one place.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input (for a piped API key or file). */
  readStdin(): Promise<string>;
  /** Asks on the terminal; `hidden` does not echo what is typed (secrets). */
  prompt(question: string, options?: { hidden?: boolean }): Promise<string>;
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly env: Env;
}

export function processIo(): CliIo {
  return {
    out: (text) => {
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    err: (text) => {
      process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    },
    prompt: (question, options = {}) =>
      new Promise((resolve) => {
        let muted = false;
        const output = new Writable({
          write(chunk: Buffer | string, _encoding, callback) {
            if (!muted) process.stderr.write(chunk);
            callback();
          },
        });
        const rl = createInterface({ input: process.stdin, output, terminal: true });
        rl.question(question, (answer) => {
          rl.close();
          if (options.hidden) process.stderr.write('\n');
          resolve(answer);
        });
        muted = options.hidden === true;
      }),
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    env: process.env,
  };
}
