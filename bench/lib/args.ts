/** Command-line options of `npm run bench`. Pure. */

export const SECTIONS = ['calls', 'converge', 'cold-start', 'planner', 'fan-out', 'worker', 'cost', 'lockout'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  /** Rate-limit windows scaled down (×0.1) and fewer repetitions: a smoke run in well under a minute. */
  quick: boolean;
  sections: readonly Section[];
  /** Where results.json goes. */
  out: string;
}

export const USAGE = `usage: npm run bench -- [--quick] [--only=${SECTIONS.join(',')}] [--out=bench/results.json]`;

export function parseArgs(argv: readonly string[]): BenchOptions {
  let quick = false;
  let sections: Section[] = [...SECTIONS];
  let out = 'bench/results.json';
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (names.length === 0) throw new Error(`--only needs at least one section\n${USAGE}`);
      const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (unknown.length > 0) throw new Error(`unknown section(s): ${unknown.join(', ')}\n${USAGE}`);
      sections = SECTIONS.filter((s) => names.includes(s));
    } else if (arg.startsWith('--out=')) {
      out = arg.slice('--out='.length);
      if (out === '') throw new Error(`--out needs a path\n${USAGE}`);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  return { quick, sections, out };
}
