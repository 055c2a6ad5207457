import type { z } from 'zod';
import type { FieldProblem } from './errors.js';

/** A validation issue's path as people read it: `stages[2].team`, `(document)` for the root. */
export function pathOf(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(document)';
}

/** A zod error as problems people read; an unknown field is reported at the field itself, so the path points at what to delete. */
export function zodProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({ path: pathOf([...issue.path, k]), message: `unknown field "${k}"` }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}
