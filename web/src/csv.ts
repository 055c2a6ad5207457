/** The header row of a CSV text: quoted fields, doubled quotes, a byte-order mark. */
export function firstRow(text: string): string[] {
  const s = text.replace(/^\uFEFF/, '');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') break;
    else field += c;
  }
  out.push(field);
  return out;
}
