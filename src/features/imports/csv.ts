import type { Readable } from 'node:stream';

export interface CsvRecord {
  record: string[];
  /** The file's line where the record ends (a quoted field may span lines). */
  line: number;
}

/** A file that is not CSV; `lines` is where reading stopped. */
export class CsvError extends Error {
  readonly code: string;
  readonly lines: number;

  constructor(code: string, message: string, lines: number) {
    super(message);
    this.code = code;
    this.lines = lines;
  }
}

/** Longer than this, a record is taken for an unclosed quote rather than read on to the end of the file. */
const MAX_RECORD = 8 * 2 ** 20;
const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
/** Where an unquoted field ends: a comma or a line break. */
const FIELD_END = /[,\r\n]/g;

/**
 * An RFC 4180 reader fed a chunk of text at a time: commas, quotes ("" inside quotes) and line
 * breaks inside quoted fields, LF or CRLF between records, empty lines skipped, a quote inside an
 * unquoted field taken as text (37°36'37.8"N), records of any length. Fields come out exactly as
 * written. It reads each field with one search rather than a character at a time, which made
 * reading a million rows several times faster than the general-purpose parser it replaces.
 */
class CsvReader {
  #pending = '';
  /** Lines before `#pending`. */
  #lines = 0;
  #first = true;

  /** The complete records in what has arrived so far; with `end`, the file is complete. */
  read(chunk: string, end: boolean): CsvRecord[] {
    let text = this.#pending + chunk;
    if (this.#first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.#first = false;
    }
    const out: CsvRecord[] = [];
    let at = 0;
    for (;;) {
      const parsed = this.#record(text, at, end);
      if (!parsed) break;
      at = parsed.next;
      this.#lines += parsed.breaks;
      // A record ends on the line of its last character: the line break after it is not counted.
      if (parsed.fields) out.push({ record: parsed.fields, line: this.#lines + (parsed.ended ? 0 : 1) });
      if (at >= text.length) break;
    }
    this.#pending = text.slice(at);
    if (this.#pending.length > MAX_RECORD) {
      throw new CsvError('CSV_RECORD_TOO_LONG', `a record starting at line ${this.#lines + 1} is longer than 8 MB (a quote not closed?)`, this.#lines + 1);
    }
    return out;
  }

  /**
   * The record starting at `at`, or null when it may continue in text not yet arrived. `breaks`
   * counts the line breaks consumed (its own last one included); `fields` is null for an empty line.
   */
  #record(text: string, at: number, end: boolean): { fields: string[] | null; next: number; breaks: number; ended: boolean } | null {
    const fields: string[] = [];
    let breaks = 0;
    let i = at;
    if (i >= text.length) return null;
    const c0 = text.charCodeAt(i);
    if (c0 === LF || (c0 === CR && text.charCodeAt(i + 1) === LF)) return { fields: null, next: i + (c0 === CR ? 2 : 1), breaks: 1, ended: true };
    if (c0 === CR && i + 1 >= text.length && !end) return null;
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        let value = '';
        let from = i + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q === -1 || (q + 1 >= text.length && !end)) {
            if (!end) return null;
            throw new CsvError(
              'CSV_QUOTE_NOT_CLOSED',
              `Quote Not Closed: the parsing is finished with an opening quote at line ${this.#lines + breaks + 1}`,
              this.#lines + breaks + 1,
            );
          }
          const part = text.slice(from, q);
          breaks += countBreaks(part);
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += `${part}"`;
            from = q + 2;
            continue;
          }
          value += part;
          i = q + 1;
          break;
        }
        fields.push(value);
        const c = text.charCodeAt(i);
        if (i >= text.length) {
          if (!end) return null;
          return { fields, next: i, breaks, ended: false };
        }
        if (c === COMMA) {
          i += 1;
          continue;
        }
        if (c === LF || (c === CR && text.charCodeAt(i + 1) === LF)) return { fields, next: i + (c === CR ? 2 : 1), breaks: breaks + 1, ended: true };
        if (c === CR && i + 1 >= text.length && !end) return null;
        const line = this.#lines + breaks + 1;
        throw new CsvError(
          'CSV_INVALID_CLOSING_QUOTE',
          `Invalid Closing Quote: got "${text[i]}" at line ${line} instead of a comma or the end of the line`,
          line,
        );
      }
      FIELD_END.lastIndex = i;
      let stop = FIELD_END.exec(text);
      // A lone carriage return inside a field is text.
      while (stop && text.charCodeAt(stop.index) === CR && stop.index + 1 < text.length && text.charCodeAt(stop.index + 1) !== LF) stop = FIELD_END.exec(text);
      if (!stop || (text.charCodeAt(stop.index) === CR && stop.index + 1 >= text.length)) {
        if (!end) return null;
        fields.push(text.slice(i));
        return { fields, next: text.length, breaks, ended: false };
      }
      fields.push(text.slice(i, stop.index));
      const c = text.charCodeAt(stop.index);
      if (c === COMMA) {
        i = stop.index + 1;
        if (i >= text.length) {
          if (!end) return null;
          fields.push('');
          return { fields, next: i, breaks, ended: false };
        }
        continue;
      }
      return { fields, next: stop.index + (c === CR ? 2 : 1), breaks: breaks + 1, ended: true };
    }
  }
}

function countBreaks(s: string): number {
  let n = 0;
  for (let at = s.indexOf('\n'); at !== -1; at = s.indexOf('\n', at + 1)) n += 1;
  return n;
}

/** The records of a CSV stream (UTF-8, a byte-order mark dropped), a chunk at a time, each with the line it ends on. */
export async function* csvChunks(source: Readable): AsyncGenerator<CsvRecord[]> {
  const reader = new CsvReader();
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    const records = reader.read(text, false);
    if (records.length) yield records;
  }
  const records = reader.read(decoder.decode(), true);
  if (records.length) yield records;
}

/** The records of a CSV stream one by one (see `csvChunks`). */
export async function* csvRows(source: Readable): AsyncGenerator<CsvRecord> {
  for await (const records of csvChunks(source)) yield* records;
}
