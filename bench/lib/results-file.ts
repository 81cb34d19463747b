/**
 * How `npm run bench` writes results.json when it ran only some sections (`--only`): the sections it
 * did not run keep the figures an earlier run left in the file, each stamped with when and in which
 * mode it was measured, so a partial run no longer wipes the rest of the report. Pure.
 */
import type { Section } from './args';

/** The keys of results.json that hold one section's figures. */
export const SECTION_KEYS: Readonly<Record<Section, readonly string[]>> = {
  calls: ['calls'],
  converge: ['converge'],
  'cold-start': ['coldStart'],
  planner: ['planner'],
  'fan-out': ['fanOut'],
  worker: ['worker'],
  cost: ['cost', 'stack'],
  lockout: ['lockout'],
};

export interface SectionStamp {
  generatedAt: string;
  mode: 'full' | 'quick';
  /** The machine the section was measured on (results.json's `machine` of that run). */
  machine?: unknown;
}

/** The part of results.json every run writes, whatever sections it ran. */
export interface ResultsHeader {
  generatedAt: string;
  mode: 'full' | 'quick';
  machine?: unknown;
  durationsMs: Partial<Record<Section, number>>;
  skipped: Partial<Record<Section, string>>;
  /** When and in which mode each section's figures were measured. */
  sections?: Partial<Record<Section, SectionStamp>>;
}

function isMode(v: unknown): v is SectionStamp['mode'] {
  return v === 'full' || v === 'quick';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `current` as this run produced it, plus from `previous` (the file's old content, anything or
 * nothing) every section this run did not run. `ran` must name every section whose figures are in
 * `current` (see producedSections), or fresh figures would be replaced by old ones. A previous file
 * from before section stamps existed gets its own `generatedAt`/`mode`/`machine` as the stamp of
 * what it held.
 */
export function mergeResults<T extends ResultsHeader>(previous: unknown, current: T, ran: readonly Section[]): T {
  const stamp: SectionStamp = { generatedAt: current.generatedAt, mode: current.mode, machine: current.machine };
  const sections: Partial<Record<Section, SectionStamp>> = {};
  for (const s of ran) sections[s] = stamp;
  const merged: Record<string, unknown> = { ...(current as ResultsHeader & Record<string, unknown>) };
  const durationsMs = { ...current.durationsMs };
  const skipped = { ...current.skipped };
  if (isRecord(previous)) {
    const oldStamps = isRecord(previous.sections) ? previous.sections : {};
    const oldDurations = isRecord(previous.durationsMs) ? previous.durationsMs : {};
    const oldSkipped = isRecord(previous.skipped) ? previous.skipped : {};
    const fileMode = previous.mode;
    const fileStamp: SectionStamp | undefined =
      typeof previous.generatedAt === 'string' && isMode(fileMode)
        ? { generatedAt: previous.generatedAt, mode: fileMode, machine: previous.machine }
        : undefined;
    for (const s of Object.keys(SECTION_KEYS) as Section[]) {
      if (ran.includes(s)) continue;
      const keys = SECTION_KEYS[s].filter((k) => previous[k] !== undefined);
      for (const k of keys) merged[k] = previous[k];
      if (typeof oldDurations[s] === 'number') durationsMs[s] = oldDurations[s];
      if (typeof oldSkipped[s] === 'string') skipped[s] = oldSkipped[s];
      const old = oldStamps[s];
      const oldMode = isRecord(old) ? old.mode : undefined;
      if (isRecord(old) && typeof old.generatedAt === 'string' && isMode(oldMode)) {
        sections[s] = { generatedAt: old.generatedAt, mode: oldMode, machine: old.machine };
      } else if ((keys.length > 0 || typeof oldSkipped[s] === 'string') && fileStamp !== undefined) {
        sections[s] = fileStamp;
      }
    }
  }
  return { ...(merged as T), durationsMs, skipped, sections };
}

/**
 * The sections a run has figures of: those asked for, and those another section needed (`cost`
 * runs the worker measurements, which land in `worker`).
 */
export function producedSections(asked: readonly Section[], current: Record<string, unknown>): Section[] {
  return (Object.keys(SECTION_KEYS) as Section[]).filter((s) => asked.includes(s) || SECTION_KEYS[s].some((k) => current[k] !== undefined));
}
