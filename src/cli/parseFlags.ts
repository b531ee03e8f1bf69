import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ImdsdError } from '../errors.ts';

type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** node:util's parser, with its errors turned into USAGE errors that name the flag. */
export function parseFlags<T extends FlagSpec>(
  args: string[],
  spec: T,
): ReturnType<
  typeof parseArgs<{ options: T; args: string[]; strict: true; allowPositionals: false }>
>['values'] {
  try {
    return parseArgs({ args, options: spec, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ImdsdError('USAGE', (error as Error).message);
  }
}
