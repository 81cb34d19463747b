/**
 * Terminal colour as a pure layer: whether to colour is decided once from the stream and the
 * environment, and every formatter takes a Style so tests can render with or without it.
 */

export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off; pipes and files never get it. */
export function colourEnabled(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY === true;
}

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const identity = (text: string): string => text;

export function createStyle(enabled: boolean): Style {
  if (!enabled) {
    return { enabled, bold: identity, dim: identity, red: identity, green: identity, yellow: identity, cyan: identity };
  }
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

export const plainStyle = createStyle(false);

/**
 * Colours the Terraform-style text of lambdas/core/render.ts by its line markers, so the core keeps
 * producing plain text and the colour stays a presentation concern.
 */
export function colourPlanText(text: string, style: Style): string {
  if (!style.enabled) return text;
  return text
    .split('\n')
    .map((line) => {
      const marker = /^\s*([+~\-!x]) /.exec(line)?.[1];
      if (marker === '+') return style.green(line);
      if (marker === '~') return style.cyan(line);
      if (marker === '-') return style.red(line);
      if (marker === '!') return style.yellow(line);
      if (marker === 'x') return style.red(line);
      if (/^(Plan|Run) /.test(line)) return style.bold(line);
      return line;
    })
    .join('\n');
}
