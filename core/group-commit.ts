/**
 * Group commit: callers add one item each and get its result; items added while a write is in flight go
 * together in the next write. A lone caller is written at once (no added latency); fifty parallel nodes of one
 * run share one statement, one transaction and one commit instead of queueing fifty behind each other.
 */
export function groupCommit<T, R>(write: (items: T[]) => Promise<R[]>, maxBatch = 256): (item: T) => Promise<R> {
  type Pending = { item: T; resolve: (r: R) => void; reject: (err: unknown) => void };
  let queue: Pending[] = [];
  let flushing = false;
  const writeAlone = async (p: Pending) => {
    try {
      p.resolve((await write([p.item]))[0]);
    } catch (err) {
      p.reject(err);
    }
  };
  const flush = async () => {
    flushing = true;
    while (queue.length) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(maxBatch);
      if (batch.length === 1) {
        await writeAlone(batch[0]);
        continue;
      }
      try {
        const results = await write(batch.map((p) => p.item));
        batch.forEach((p, i) => p.resolve(results[i]));
      } catch {
        // One bad item must not fail the others: write each alone, so only its own caller sees its error.
        await Promise.all(batch.map(writeAlone));
      }
    }
    flushing = false;
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!flushing) void flush();
    });
}
