/**
 * A Bloom filter of strings: a fixed set of bits that answers "surely never added" or "perhaps
 * added". It never forgets and never grows, so memory stays flat whatever goes in; past its
 * capacity it answers "perhaps" more and more often, which callers must treat as the safe answer.
 */
export class BloomFilter {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  readonly #hashes: number;
  /** The positions of the key being looked at (reused). */
  readonly #at: Uint32Array;

  /** `log2Bits` bits in all (2^24 = 2 MB holds a million strings at under 0.1% false "perhaps"). */
  constructor(log2Bits = 24, hashes = 7) {
    if (!Number.isInteger(log2Bits) || log2Bits < 5 || log2Bits > 31) throw new RangeError(`log2Bits must be an integer from 5 to 31, not ${log2Bits}`);
    this.#bits = new Uint32Array(2 ** (log2Bits - 5));
    this.#mask = 2 ** log2Bits - 1;
    this.#hashes = hashes;
    this.#at = new Uint32Array(hashes);
  }

  /** Add `key`; answers whether it was perhaps added before (false: surely new). */
  add(key: string): boolean {
    const at = this.#positions(key);
    let seen = true;
    for (let i = 0; i < this.#hashes; i++) {
      const p = at[i] as number;
      const word = p >>> 5;
      const bit = 1 << (p & 31);
      const value = this.#bits[word] as number;
      if ((value & bit) === 0) {
        seen = false;
        this.#bits[word] = value | bit;
      }
    }
    return seen;
  }

  /** Whether `key` was perhaps added (false: surely not). */
  has(key: string): boolean {
    const at = this.#positions(key);
    for (let i = 0; i < this.#hashes; i++) {
      const p = at[i] as number;
      if (((this.#bits[p >>> 5] as number) & (1 << (p & 31))) === 0) return false;
    }
    return true;
  }

  /** The key's bit positions, by double hashing two 32-bit FNV-1a style hashes of its UTF-16 code units. */
  #positions(key: string): Uint32Array {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ key.length;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // Mix the first hash's high bits down; the step must be odd so that positions do not repeat early.
    h1 ^= h1 >>> 13;
    h1 = Math.imul(h1, 0x85ebca6b);
    h1 ^= h1 >>> 16;
    h2 |= 1;
    const at = this.#at;
    for (let i = 0; i < this.#hashes; i++) at[i] = (h1 + Math.imul(i, h2)) & this.#mask;
    return at;
  }
}
