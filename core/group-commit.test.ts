import { describe, expect, it } from "vitest";
import { groupCommit } from "./group-commit.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("groupCommit", () => {
  it("writes a lone item at once and batches what arrives while a write is in flight", async () => {
    const writes: number[][] = [];
    const add = groupCommit(async (items: number[]) => {
      writes.push(items);
      await tick();
      return items.map((i) => i * 10);
    });
    expect(await add(1)).toBe(10);
    await tick(); // let the first flush wind down
    const results = await Promise.all([2, 3, 4, 5].map((i) => add(i)));
    expect(results).toEqual([20, 30, 40, 50]);
    // 2 went alone (nothing in flight); 3, 4 and 5 queued behind it and shared one write.
    expect(writes).toEqual([[1], [2], [3, 4, 5]]);
  });

  it("caps a batch and keeps order", async () => {
    const writes: number[][] = [];
    const add = groupCommit(async (items: number[]) => (writes.push(items), await tick(), items), 2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((i) => add(i)))).toEqual([1, 2, 3, 4, 5]);
    expect(writes).toEqual([[1], [2, 3], [4, 5]]);
  });

  it("a failing batch is retried item by item, so only the bad item's caller sees the error", async () => {
    const writes: number[][] = [];
    const add = groupCommit(async (items: number[]) => {
      writes.push(items);
      await tick();
      if (items.includes(13)) throw new Error("13 is refused");
      return items;
    });
    const settled = await Promise.allSettled([1, 12, 13, 14].map((i) => add(i)));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((settled[2] as PromiseRejectedResult).reason.message).toBe("13 is refused");
    expect(writes).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
    // The queue keeps working afterwards.
    expect(await add(2)).toBe(2);
  });
});
