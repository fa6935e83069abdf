import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localCursorKey } from '../../functions/adapters/local/cursor-key.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'certalarm-cursor-key-'));
  dirs.push(dir);
  return dir;
}

describe('Function: localCursorKey', () => {
  it('makes a 32-byte key on the first start, readable by its owner only, and keeps it for the next', () => {
    // Prepare
    const dir = dataDir();

    // Act
    const first = localCursorKey(dir);
    const second = localCursorKey(dir);

    // Assess
    expect(first).toHaveLength(32);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    expect(statSync(join(dir, 'cursor-key')).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file that is not a key, saying how to make a new one', () => {
    // Prepare
    const dir = dataDir();
    writeFileSync(join(dir, 'cursor-key'), 'short\n');

    // Act & Assess
    expect(() => localCursorKey(dir)).toThrow('delete it and restart');
  });
});
