import { describe, expect, it } from 'vitest';
import { groupCommit } from '../src/server/group-commit.js';

describe('group commit of provider events', () => {
  it('writes at once when idle, then together what arrived meanwhile, in order, capped', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const write = groupCommit<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await new Promise<void>((r) => (release = r));
    }, 3);
    const first = write([1]);
    const rest = [write([2]), write([3, 4]), write([5]), write([6, 7, 8, 9])];
    expect(writes).toEqual([[1]]);
    release();
    await Promise.all([first, ...rest]);
    expect(writes).toEqual([[1], [2, 3, 4], [5], [6, 7, 8, 9]]);
  });

  it('fails every request of a failed write, and only those', async () => {
    let n = 0;
    const write = groupCommit<number>(async () => {
      if (++n === 1) throw new Error('Redis away');
    }, 10);
    const a = write([1]);
    const b = write([2]);
    await expect(a).rejects.toThrow('Redis away');
    await expect(b).resolves.toBeUndefined();
  });
});
