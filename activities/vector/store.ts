/**
 * Each collection's FAISS index in this worker: loaded from INDEX_DIR, caught up from PostgreSQL (the source of
 * truth: documents hold positions 0 .. document_count - 1), or rebuilt from it when missing or unusable.
 * Searches run synchronously on a complete index: additions happen in one synchronous step after their rows
 * are read, and rebuilds swap in a finished index, so no search ever sees half of a write.
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Index } from "faiss-node";
import type { Sql } from "../../db/client.ts";
import type { VectorConfig } from "./config.ts";
import { fromBytes } from "./embeddings.ts";
import { matchesFilter, type MetadataFilter } from "./filter.ts";

type Faiss = typeof import("faiss-node");
type Kind = "flat" | "hnsw";

/** What a caller read of the collection's row; the store catches up to at least this many documents. */
export interface CollectionRow {
  id: string;
  dimension: number | null;
  document_count: number;
}

export interface LoadedIndex {
  index: Index;
  kind: Kind;
  dimension: number;
  /** Documents in the index; label i is the document at position i. */
  count: number;
  ids: string[];
  metadata: Record<string, unknown>[];
}

export interface Hit {
  position: number;
  id: string;
  score: number;
  metadata: Record<string, unknown>;
}

export interface SearchOptions {
  topK: number;
  scoreThreshold?: number;
  filter?: MetadataFilter;
}

/** Rows read (and vectors added) per step when catching up or rebuilding: bounds memory for big collections. */
const CHUNK = 10_000;
const HNSW_DESCRIPTOR = "HNSW32,Flat";
/** Metadata entries looked at to estimate how many documents a filter lets through. */
const FILTER_SAMPLE = 1000;
const SAMPLE_STRIDE = 104_729;

let faissModule: Faiss | undefined;
/** faiss-node is loaded on first use, so a worker that never searches does not need the native addon. */
export function faiss(): Faiss {
  faissModule ??= createRequire(import.meta.url)("faiss-node") as Faiss;
  return faissModule;
}

/** faiss-node reads plain number arrays; an indexed loop converts several times faster than Array.from. */
export function toPlainArray(vector: Float32Array): number[] {
  const out = new Array<number>(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i];
  return out;
}

export type VectorLog = (msg: string, fields: Record<string, unknown>) => void;

export class VectorStore {
  private readonly loaded = new Map<string, LoadedIndex>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly sql: Sql,
    readonly config: VectorConfig,
    private readonly log: VectorLog = () => {},
  ) {}

  private kindFor(count: number): Kind {
    return count > this.config.hnswThreshold ? "hnsw" : "flat";
  }

  private file(id: string, kind: Kind) {
    return join(this.config.indexDir, `${id}.${kind}.faiss`);
  }

  /** One refresh or write per collection at a time in this process. */
  private exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => {});
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return next;
  }

  /** The collection's index with at least `row.document_count` documents. */
  current(row: CollectionRow): Promise<LoadedIndex> {
    const have = this.loaded.get(row.id);
    if (have && have.count >= row.document_count && have.kind === this.kindFor(have.count)) {
      return Promise.resolve(have);
    }
    return this.exclusive(row.id, () => this.refresh(row.id));
  }

  private async refresh(id: string): Promise<LoadedIndex> {
    const [row] = await this.sql`SELECT dimension, document_count FROM vector_collections WHERE id = ${id}`;
    if (!row) throw new Error(`collection ${id} no longer exists`);
    const count = row.document_count as number;
    const dimension = (row.dimension as number | null) ?? 0;
    const kind = this.kindFor(count);
    let state = this.loaded.get(id) ?? await this.readFile(id, kind, dimension, count);
    if (state && (state.kind !== kind || state.dimension !== dimension || state.count > count)) state = null;
    if (!state) {
      state = await this.rebuild(id, kind, dimension, count);
    } else if (state.count < count) {
      await this.catchUp(id, state, count);
    }
    this.loaded.set(id, state);
    return state;
  }

  private async readFile(id: string, kind: Kind, dimension: number, count: number): Promise<LoadedIndex | null> {
    const path = this.file(id, kind);
    try {
      await stat(path);
    } catch {
      return null;
    }
    try {
      const index = faiss().Index.read(path);
      const n = index.ntotal();
      if (index.getDimension() !== dimension || n > count) return null;
      const state: LoadedIndex = { index, kind, dimension, count: n, ids: [], metadata: [] };
      await this.readRows(id, 0, n, (rows) => {
        for (const r of rows) {
          state.ids.push(r.id as string);
          state.metadata.push(r.metadata as Record<string, unknown>);
        }
      }, false);
      this.log("vector index loaded", { collection_id: id, kind, documents: n, path });
      return state;
    } catch (err) {
      this.log("vector index unreadable; rebuilding", { collection_id: id, path, error: (err as Error).message });
      return null;
    }
  }

  private async readRows(
    id: string,
    from: number,
    to: number,
    each: (rows: Record<string, unknown>[]) => void,
    withEmbeddings: boolean,
  ) {
    for (let start = from; start < to; start += CHUNK) {
      const end = Math.min(to, start + CHUNK);
      const rows = await this.sql`
        SELECT position, id, metadata ${withEmbeddings ? this.sql`, embedding` : this.sql``}
        FROM vector_documents WHERE collection_id = ${id} AND position >= ${start} AND position < ${end}
        ORDER BY position`;
      if (rows.length !== end - start) throw new Error(`collection ${id}: positions ${start}..${end} incomplete`);
      each([...rows]);
    }
  }

  /** Adds rows' embeddings to the index: the one conversion faiss-node needs (a plain number array). */
  private addRows(state: LoadedIndex, rows: Record<string, unknown>[]) {
    const d = state.dimension;
    const flat = new Array<number>(rows.length * d);
    for (let i = 0; i < rows.length; i++) {
      const v = fromBytes(rows[i].embedding as Uint8Array);
      for (let j = 0; j < d; j++) flat[i * d + j] = v[j];
    }
    // Synchronous from here to the end: a search sees the index before or after, never between.
    state.index.add(flat);
    for (const r of rows) {
      state.ids.push(r.id as string);
      state.metadata.push(r.metadata as Record<string, unknown>);
    }
    state.count += rows.length;
  }

  private async catchUp(id: string, state: LoadedIndex, count: number) {
    const from = state.count;
    await this.readRows(id, from, count, (rows) => this.addRows(state, rows), true);
    this.log("vector index caught up", { collection_id: id, from, to: count });
  }

  private async rebuild(id: string, kind: Kind, dimension: number, count: number): Promise<LoadedIndex> {
    const started = performance.now();
    const lib = faiss();
    const index = kind === "hnsw"
      ? lib.Index.fromFactory(dimension || 1, HNSW_DESCRIPTOR, lib.MetricType.METRIC_INNER_PRODUCT)
      : new lib.IndexFlatIP(dimension || 1);
    // Built aside and swapped in whole by the caller.
    const state: LoadedIndex = { index, kind, dimension, count: 0, ids: [], metadata: [] };
    await this.readRows(id, 0, count, (rows) => this.addRows(state, rows), true);
    if (count > 0) {
      this.log("vector index rebuilt from PostgreSQL", {
        collection_id: id,
        kind,
        documents: count,
        ms: Math.round(performance.now() - started),
      });
    }
    return state;
  }

  /** Writes the index atomically (temporary file, then rename) so a reader never opens a partial file. */
  persist(id: string): Promise<void> {
    return this.exclusive(id, async () => {
      const state = this.loaded.get(id);
      if (!state || state.dimension === 0) return;
      await mkdir(this.config.indexDir, { recursive: true });
      const path = this.file(id, state.kind);
      const tmp = `${path}.${process.pid}.tmp`;
      state.index.write(tmp);
      await rename(tmp, path);
      const other = this.file(id, state.kind === "flat" ? "hnsw" : "flat");
      await rm(other, { force: true });
    });
  }

  /** Forgets a deleted collection: its index leaves memory and disk. */
  drop(id: string): Promise<void> {
    return this.exclusive(id, async () => {
      this.loaded.delete(id);
      await rm(this.file(id, "flat"), { force: true });
      await rm(this.file(id, "hnsw"), { force: true });
    });
  }

  /** Forgets every loaded index (the files stay): what a restarted worker starts from. */
  unloadAll() {
    this.loaded.clear();
  }

  /**
   * How many neighbours to ask FAISS for so that, most of the time, one search yields top_k matches: the
   * filter's selectivity estimated on an even sample of the collection's metadata, with room to spare.
   */
  private filteredK(state: LoadedIndex, filter: MetadataFilter, topK: number): number {
    const total = state.count;
    const sampled = Math.min(total, FILTER_SAMPLE);
    let matched = 0;
    // A prime stride spreads the sample over the collection without falling into a pattern of the data's.
    for (let j = 0; j < sampled; j++) {
      if (matchesFilter(state.metadata[(j * SAMPLE_STRIDE) % total], filter)) matched++;
    }
    const wanted = matched === 0 ? topK * 50 : Math.ceil((topK * 2 * sampled) / matched) + 16;
    return Math.min(total, Math.max(topK, wanted));
  }

  /**
   * The top_k documents by inner product (cosine on normalised vectors) that pass the filter and threshold.
   * With a filter the search widens until top_k documents match or the whole collection has been scanned.
   */
  search(state: LoadedIndex, query: Float32Array, options: SearchOptions): Hit[] {
    const { topK, scoreThreshold, filter } = options;
    const total = state.count;
    if (total === 0) return [];
    const q = toPlainArray(query);
    let k = filter ? this.filteredK(state, filter, topK) : Math.min(topK, total);
    for (;;) {
      const { distances, labels } = state.index.search(q, k);
      const hits: Hit[] = [];
      let belowThreshold = false;
      for (let i = 0; i < labels.length && hits.length < topK; i++) {
        const position = labels[i];
        if (position < 0) continue;
        const score = distances[i];
        if (scoreThreshold !== undefined && score < scoreThreshold) {
          belowThreshold = true;
          break;
        }
        const metadata = state.metadata[position];
        if (filter && !matchesFilter(metadata, filter)) continue;
        hits.push({ position, id: state.ids[position], score, metadata });
      }
      if (!filter || hits.length >= topK || belowThreshold || k >= total) return hits;
      k = Math.min(total, k * 4);
    }
  }
}
