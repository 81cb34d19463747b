import type { Pagination } from './wire';
import { EmulatorHttpError } from './http-error';

export const DEFAULT_PAGE_COUNT = 10;
export const MAX_PAGE_COUNT = 200;

export interface PageQuery {
  count: number;
  /** Whether the caller passed `count`; bunq repeats it in the pagination URLs only then. */
  countGiven: boolean;
  olderId?: number;
  newerId?: number;
}

function parseId(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new EmulatorHttpError(400, `The value "${raw}" of parameter "${name}" is not a valid id.`);
  return Number(raw);
}

export function parsePageQuery(params: URLSearchParams): PageQuery {
  const rawCount = params.get('count');
  let count = DEFAULT_PAGE_COUNT;
  if (rawCount !== null) {
    if (!/^\d{1,6}$/.test(rawCount) || Number(rawCount) < 1) {
      throw new EmulatorHttpError(400, `The value "${rawCount}" of parameter "count" is not a positive number.`);
    }
    count = Number(rawCount);
    if (count > MAX_PAGE_COUNT) {
      throw new EmulatorHttpError(400, `The maximum value of parameter "count" is ${MAX_PAGE_COUNT}.`);
    }
  }
  const olderId = parseId(params, 'older_id');
  const newerId = parseId(params, 'newer_id');
  if (olderId !== undefined && newerId !== undefined) {
    throw new EmulatorHttpError(400, 'The parameters "older_id" and "newer_id" cannot be combined.');
  }
  const query: PageQuery = { count, countGiven: rawCount !== null };
  if (olderId !== undefined) query.olderId = olderId;
  if (newerId !== undefined) query.newerId = newerId;
  return query;
}

/**
 * One page of a newest-first list, with bunq's Pagination block: `older_url` pages back from the
 * oldest id on the page, `newer_url` forward from the newest, and `future_url` is set only when the
 * page already holds the newest item (so the caller can poll for items that do not exist yet).
 */
export function paginate<T extends { id: number }>(
  items: readonly T[],
  query: PageQuery,
  basePath: string,
): { page: T[]; pagination: Pagination } {
  const newestFirst = [...items].sort((a, b) => b.id - a.id);
  let page: T[];
  if (query.newerId !== undefined) {
    const newerId = query.newerId;
    const newer = newestFirst.filter((i) => i.id > newerId);
    page = newer.slice(Math.max(0, newer.length - query.count));
  } else {
    const olderId = query.olderId;
    const candidates = olderId === undefined ? newestFirst : newestFirst.filter((i) => i.id < olderId);
    page = candidates.slice(0, query.count);
  }
  const url = (param: 'older_id' | 'newer_id', id: number): string =>
    `${basePath}?${query.countGiven ? `count=${query.count}&` : ''}${param}=${id}`;

  const first = page[0];
  const last = page[page.length - 1];
  if (first === undefined || last === undefined) {
    // An empty page has no ids to page from; only "poll for newer than what you asked" makes sense.
    const futureFrom = query.newerId;
    return {
      page,
      pagination: {
        future_url: futureFrom === undefined ? null : url('newer_id', futureFrom),
        newer_url: null,
        older_url: null,
      },
    };
  }
  const hasNewer = newestFirst.some((i) => i.id > first.id);
  const hasOlder = newestFirst.some((i) => i.id < last.id);
  return {
    page,
    pagination: {
      future_url: hasNewer ? null : url('newer_id', first.id),
      newer_url: hasNewer ? url('newer_id', first.id) : null,
      older_url: hasOlder ? url('older_id', last.id) : null,
    },
  };
}
