/**
 * Arrays in PostgreSQL's binary format, for the bulk statements that send a batch as one array
 * per column (`unnest($1::uuid[], $2::text[], …)`). Both drivers send a Buffer parameter in the
 * binary format, so the database copies each value instead of parsing an array literal: on the
 * embedded database, reading 2,000 leads' 18 columns as text took a quarter of the statement.
 * The statement must cast the parameter to the same array type (`::uuid[]` for 'uuid').
 */

const ELEMENT_OID = { uuid: 2950, text: 25, int4: 23, float8: 701, timestamptz: 1184, jsonb: 3802 } as const;
export type ElementType = keyof typeof ELEMENT_OID;

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const POSTGRES_EPOCH_MS = 946_684_800_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TWO_32 = 2 ** 32;

/** A one-dimensional array of `type` in binary form; null and undefined elements are NULL. */
export function binaryArray(type: ElementType, values: readonly unknown[]): Buffer {
  const texts: (string | null)[] = [];
  let size = values.length ? 20 : 12;
  let nulls = 0;
  for (const v of values) {
    if (v === null || v === undefined) {
      nulls = 1;
      size += 4;
      texts.push(null);
      continue;
    }
    if (type === 'text' || type === 'jsonb') {
      const s = type === 'jsonb' && typeof v !== 'string' ? JSON.stringify(v) : String(v);
      texts.push(s);
      size += 4 + Buffer.byteLength(s) + (type === 'jsonb' ? 1 : 0);
    } else {
      texts.push(null);
      size += 4 + (type === 'uuid' ? 16 : type === 'int4' ? 4 : 8); // float8 and timestamptz: 8
    }
  }
  const buf = Buffer.allocUnsafe(size);
  buf.writeInt32BE(values.length ? 1 : 0, 0);
  buf.writeInt32BE(nulls, 4);
  buf.writeInt32BE(ELEMENT_OID[type], 8);
  let at = 12;
  if (values.length) {
    buf.writeInt32BE(values.length, 12);
    buf.writeInt32BE(1, 16);
    at = 20;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      at = buf.writeInt32BE(-1, at);
      continue;
    }
    if (type === 'text') {
      const s = texts[i] as string;
      const length = buf.write(s, at + 4, 'utf8');
      buf.writeInt32BE(length, at);
      at += 4 + length;
    } else if (type === 'jsonb') {
      const s = texts[i] as string;
      buf[at + 4] = 1; // jsonb's binary format: a version byte, then the text
      const length = buf.write(s, at + 5, 'utf8');
      buf.writeInt32BE(length + 1, at);
      at += 5 + length;
    } else if (type === 'uuid') {
      const s = String(v);
      if (!UUID.test(s)) throw new TypeError(`"${s}" is not a UUID`);
      at = buf.writeInt32BE(16, at);
      buf.write(s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24), at, 16, 'hex');
      at += 16;
    } else if (type === 'int4') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new TypeError(`${String(v)} is not a 32-bit integer`);
      at = buf.writeInt32BE(4, at);
      at = buf.writeInt32BE(n, at);
    } else if (type === 'float8') {
      if (typeof v !== 'number') throw new TypeError(`${String(v)} is not a number`);
      at = buf.writeInt32BE(8, at);
      at = buf.writeDoubleBE(v, at);
    } else {
      const ms = v instanceof Date ? v.getTime() : Date.parse(String(v));
      if (Number.isNaN(ms)) throw new TypeError(`"${String(v)}" is not a time`);
      const micros = (ms - POSTGRES_EPOCH_MS) * 1000;
      const high = Math.floor(micros / TWO_32);
      at = buf.writeInt32BE(8, at);
      at = buf.writeInt32BE(high, at);
      at = buf.writeUInt32BE(micros - high * TWO_32, at);
    }
  }
  return buf;
}
