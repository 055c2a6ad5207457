import { randomFillSync } from 'node:crypto';

// Randomness is drawn in 4 KiB blocks: one system call per 256 ids instead of one per id.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomBytes16(): Buffer {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return out;
}

let lastMs = -1;
let sequence = 0;

/**
 * UUID version 7: a millisecond timestamp followed by randomness. Time-ordered ids keep
 * B-tree inserts local and give a stable default sort without a second column.
 */
export function uuidv7(at: number = Date.now()): string {
  const bytes = randomBytes16();
  // Within one millisecond a 12-bit counter follows the timestamp, so ids made in order by this
  // process sort in that order (RFC 9562, method 1).
  if (at === lastMs) sequence = (sequence + 1) & 0xfff;
  else {
    lastMs = at;
    sequence = (bytes[6] ?? 0) & 0x07;
  }
  let ts = at;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ts % 256;
    ts = Math.floor(ts / 256);
  }
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
