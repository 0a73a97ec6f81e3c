// The errors a command reports as one line on stderr with exit status 2. Kept apart from
// common.ts so that the entry point can name them without loading the engine.
import { CaptureFormatError } from '../capture/frame.js';
import { UnknownFieldError } from '../filter/errors.js';
import { DatabaseError, OutputPathError } from '../output/output-errors.js';

/** A problem with how the command was called or with its input: one line on stderr, exit 2. */
export class UsageError extends Error {}

export function isInputError(err: unknown): err is Error {
  return err instanceof CaptureFormatError || err instanceof UsageError || err instanceof UnknownFieldError || err instanceof OutputPathError || err instanceof DatabaseError;
}
