import { vi } from 'vitest';

export interface EmfRecord {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/**
 * Captures stdout and stderr (both end up in CloudWatch Logs) while `fn` runs, and returns the
 * lines and the EMF records among them (JSON lines with `_aws`).
 */
export async function captureStdout<T>(fn: () => Promise<T>): Promise<{ value: T; emf: EmfRecord[]; lines: string[] }> {
  const lines: string[] = [];
  const collect = (chunk: string | Uint8Array): boolean => {
    lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
    return true;
  };
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(collect);
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation(collect);
  try {
    const value = await fn();
    const emf = lines
      .filter((l) => l.startsWith('{') && l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as EmfRecord);
    return { value, emf, lines };
  } finally {
    spy.mockRestore();
    errSpy.mockRestore();
  }
}
