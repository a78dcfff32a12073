import { describe, expect, it } from 'vitest';
import { groupCommit } from '../src/server/group-commit.js';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('group commit of provider events', () => {
  it('writes together what arrived in one turn, then what arrived meanwhile, in order, capped', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const write = groupCommit<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await new Promise<void>((r) => (release = r));
    }, 3);
    const sameTurn = [write([1]), write([2])];
    await nextTurn();
    expect(writes).toEqual([[1, 2]]);
    const meanwhile = [write([3, 4]), write([5]), write([6, 7, 8, 9])];
    await nextTurn();
    expect(writes).toEqual([[1, 2]]);
    release();
    await Promise.all([...sameTurn, ...meanwhile]);
    expect(writes).toEqual([[1, 2], [3, 4, 5], [6, 7, 8, 9]]);
  });

  it('fails every request of a failed write, and only those', async () => {
    let release!: () => void;
    let n = 0;
    const write = groupCommit<number>(async () => {
      if (++n > 1) return;
      await new Promise<void>((r) => (release = r));
      throw new Error('Redis away');
    }, 10);
    const a = [write([1]), write([2])];
    await nextTurn();
    const b = write([3]);
    release();
    for (const p of a) await expect(p).rejects.toThrow('Redis away');
    await expect(b).resolves.toBeUndefined();
  });
});
