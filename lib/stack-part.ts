import { createHash } from 'node:crypto';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

/**
 * A construct that gives one part of the stack its own class (the functions, what triggers them)
 * without entering the logical IDs of the resources under it: ReconcilerStack allocates logical
 * IDs as if the part's children were its own. A changed logical ID is a new resource to
 * CloudFormation: it would replace a function and its log group, and a fixed-name alarm or table
 * cannot be created twice, so splitting the stack into parts must change no ID.
 */
export class StackPart extends Construct {}

// CDK's own allocation (aws-cdk-lib core/lib/private/uniqueid.ts, not exported): the path below the
// stack, `Default` dropped, a human part without `Resource` and repeated suffixes, and an MD5 of the
// path. test/infra/stack-parts.test.ts pins the IDs of the stateful resources this must reproduce.
const HIDDEN_ID = 'Default';
const HIDDEN_FROM_HUMAN_ID = 'Resource';
const MAX_HUMAN_LEN = 240;
const MAX_ID_LEN = 255;

const alphanumeric = (s: string): string => s.replace(/[^A-Za-z0-9]/g, '');

function uniqueId(path: string[]): string {
  const components = path.filter((c) => c !== HIDDEN_ID);
  if (components.length === 1) {
    const only = alphanumeric(components[0] as string);
    if (only.length <= MAX_ID_LEN) return only;
  }
  const hash = createHash('md5').update(components.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const c of components) if (human.length === 0 || !(human[human.length - 1] as string).endsWith(c)) human.push(c);
  return human.filter((c) => c !== HIDDEN_FROM_HUMAN_ID).map(alphanumeric).join('').slice(0, MAX_HUMAN_LEN) + hash;
}

const outsideParts = (scopes: IConstruct[]): string[] => scopes.filter((s) => !(s instanceof StackPart)).map((s) => s.node.id);

/** The logical ID `element` gets in `stack` with every StackPart left out of its path. */
export function logicalIdOutsideParts(stack: Stack, element: CfnElement): string {
  const scopes = element.node.scopes;
  return uniqueId(outsideParts(scopes.slice(scopes.indexOf(stack) + 1)));
}

/** `Names.uniqueId(construct)` with every StackPart left out of its path (what a few resources put in a name or description). */
export function uniqueIdOutsideParts(construct: IConstruct): string {
  return uniqueId(outsideParts(construct.node.scopes.slice(1)));
}
