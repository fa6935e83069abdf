/**
 * A set of row keys (certificate type + number) that remembers the first row of each, for finding
 * duplicates in a file of a million rows without holding a million strings: each key is kept as two
 * independent 32-bit hashes (a 64-bit fingerprint; a false duplicate among a million keys has odds
 * near 1 in 10^7) plus its row number, in flat typed arrays.
 */
export class RowKeySet {
  private hashA: Uint32Array;
  private hashB: Uint32Array;
  private rows: Int32Array;
  private size = 0;

  constructor(expected = 1 << 16) {
    const capacity = RowKeySet.capacityFor(expected);
    this.hashA = new Uint32Array(capacity);
    this.hashB = new Uint32Array(capacity);
    this.rows = new Int32Array(capacity).fill(-1);
  }

  get count(): number {
    return this.size;
  }

  /** Adds the key; returns the row it was first seen on if it was already there, else undefined. */
  addOrGetFirstRow(key: string, row: number): number | undefined {
    if ((this.size + 1) * 2 > this.rows.length) this.grow();
    const a = fnv1a(key);
    const b = djb2(key);
    const slot = this.find(a, b);
    const existing = this.rows[slot] ?? -1;
    if (existing !== -1) return existing;
    this.hashA[slot] = a;
    this.hashB[slot] = b;
    this.rows[slot] = row;
    this.size += 1;
    return undefined;
  }

  private find(a: number, b: number): number {
    const mask = this.rows.length - 1;
    let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    for (;;) {
      if (this.rows[slot] === -1) return slot;
      if (this.hashA[slot] === a && this.hashB[slot] === b) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const oldA = this.hashA;
    const oldB = this.hashB;
    const oldRows = this.rows;
    const capacity = oldRows.length * 2;
    this.hashA = new Uint32Array(capacity);
    this.hashB = new Uint32Array(capacity);
    this.rows = new Int32Array(capacity).fill(-1);
    for (let i = 0; i < oldRows.length; i += 1) {
      const row = oldRows[i] ?? -1;
      if (row === -1) continue;
      const a = oldA[i] ?? 0;
      const b = oldB[i] ?? 0;
      const slot = this.find(a, b);
      this.hashA[slot] = a;
      this.hashB[slot] = b;
      this.rows[slot] = row;
    }
  }

  private static capacityFor(expected: number): number {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    return capacity;
  }
}

/** Two independent 32-bit string hashes; together a 64-bit fingerprint (the outbox's index uses them too). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function djb2(text: string): number {
  let hash = 5381;
  for (let i = 0; i < text.length; i += 1) hash = (Math.imul(hash, 33) ^ text.charCodeAt(i)) >>> 0;
  return hash;
}
