/**
 * `npm start`: the reconciler end to end on embedded parts (see scenario.ts). Exits 0 when the
 * story held, 1 with the failing check otherwise.
 */
import { colourEnabled, createStyle } from '../cli/style';
import { runDemo } from './scenario';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const style = createStyle(colourEnabled(process.stdout.isTTY, process.env));
runDemo((text) => process.stdout.write(`${text}\n`), style).then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
