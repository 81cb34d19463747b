import { describe, expect, it } from 'vitest';
import { logger } from '../../lambdas/aws/logger';
import { handlerLogger, withRequestContext } from '../../lambdas/handlers/handler-logger';
import { fakeLambdaContext } from '../integration/handler-context';
import { captureStdout } from './emf-capture';

const parsed = (lines: readonly string[]): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('withRequestContext', () => {
  it('keys one invocation appends are gone in the next, whose lines carry the next request id', async () => {
    const handle = withRequestContext(async (event: { credential?: string }) => {
      if (event.credential !== undefined) logger.appendKeys({ credential: event.credential });
      handlerLogger.info('working');
      return event.credential ?? 'none';
    });
    const first = await captureStdout(() => handle({ credential: 'alpha' }, fakeLambdaContext('req-1')));
    const second = await captureStdout(() => handle({}, fakeLambdaContext('req-2')));
    expect(parsed(first.lines)).toEqual([expect.objectContaining({ function_request_id: 'req-1', credential: 'alpha' })]);
    const [line] = parsed(second.lines);
    expect(line).toMatchObject({ function_request_id: 'req-2', message: 'working' });
    expect(line).not.toHaveProperty('credential');
  });

  it('drops the keys also when the invocation throws', async () => {
    const failing = withRequestContext(async () => {
      logger.appendKeys({ credential: 'beta' });
      throw new Error('boom');
    });
    await expect(failing({}, fakeLambdaContext('req-3'))).rejects.toThrow('boom');
    const { lines } = await captureStdout(async () => handlerLogger.info('after'));
    expect(parsed(lines)[0]).not.toHaveProperty('credential');
  });
});
