/** A validation issue's path as people read it: `stages[2].team`, `(document)` for the root. */
export function pathOf(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(document)';
}
