import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { createRequire } from 'node:module';
import { splitPath } from './docStore.js';
import type { Doc, DocIndex, DocQuery, DocStore, Updater } from './docStore.js';

// node:sqlite is Node 22's built-in SQLite: no native addon to compile (an addon built by npm
// under the machine's Node 20 would not load under Node 22). Loaded through require so that
// importing this module costs nothing until a store is opened, and so its one-time
// "experimental" warning only appears in the embedded runtime.
const require = createRequire(import.meta.url);

/**
 * The embedded runtime's document store. Operations are group-committed: every operation asked
 * for while the previous batch ran goes into one `BEGIN IMMEDIATE` transaction, and resolves
 * once that transaction has committed. One operation failing leaves the others (each writes with
 * one statement, which SQLite undoes by itself; see `flush`). A burst of webhooks therefore costs one commit per batch instead of one or two per
 * push, and a second process on the same file (`baton approve` beside `baton dev`) serialises
 * with this one.
 */
export class SqliteDocStore implements DocStore {
  private readonly db: DatabaseSyncType;
  private readonly statements = new Map<string, ReturnType<DatabaseSyncType['prepare']>>();
  /** Operations waiting for the next batch, and the batch being flushed. */
  private pending: Array<{ run: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  /** The partial indexes' collections: a query on one of them names it literally, so SQLite can use them. */
  private readonly indexed = new Set<string>();

  constructor(file: string, indexes: readonly DocIndex[] = []) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
    this.db = new DatabaseSync(file);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA busy_timeout = 5000;
      -- WAL with NORMAL sync: a commit does not wait for fsync (durable at checkpoints), which is
      -- the right trade for a local ledger that the demo and baton dev rebuild at will.
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS docs (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (collection, id)
      );
    `);
    // Expression indexes over the JSON body: a query's ORDER BY and WHERE use exactly these
    // expressions, so SQLite walks the index instead of reading every document.
    // Partial, so that only documents of the indexed collection pay for the index on a write.
    for (const index of indexes) {
      const name = `docs_${index.collection}_${index.fields.map((f) => f.field).join('_')}`.replace(/[^A-Za-z0-9_]/g, '_');
      // The collection leads the columns too: without it the planner prefers the primary key and sorts.
      const columns = ['collection', ...index.fields.map((f) => `${jsonField(f.field)} ${f.direction === 'desc' ? 'DESC' : 'ASC'}`)].join(', ');
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${name} ON docs (${columns}) WHERE collection = ${literal(index.collection)}`);
      this.indexed.add(index.collection);
    }
  }

  create(path: string, doc: Doc): Promise<boolean> {
    return this.exclusive(() => {
      const { collection, id } = splitPath(path);
      const result = this.sql('INSERT OR IGNORE INTO docs (collection, id, body) VALUES (?, ?, ?)').run(collection, id, JSON.stringify(doc));
      return Number(result.changes) === 1;
    });
  }

  get<T extends Doc>(path: string): Promise<T | undefined> {
    return this.exclusive(() => {
      const { collection, id } = splitPath(path);
      return this.read<T>(collection, id);
    });
  }

  set(path: string, doc: Doc): Promise<void> {
    return this.exclusive(() => {
      const { collection, id } = splitPath(path);
      this.write(collection, id, doc);
    });
  }

  update<T extends Doc>(path: string, update: Updater<T>): Promise<{ doc: T | undefined; changed: boolean }> {
    return this.exclusive(() => {
      const { collection, id } = splitPath(path);
      const current = this.read<T>(collection, id);
      // The read is fresh (JSON.parse), so the updater may change it in place.
      const next = update(current);
      if (next !== undefined) this.write(collection, id, next);
      return next === undefined ? { doc: current, changed: false } : { doc: next, changed: true };
    });
  }

  setField(path: string, fields: readonly string[], value: string | number | boolean): Promise<void> {
    return this.exclusive(() => {
      const { collection, id } = splitPath(path);
      const jsonPath = `$${fields.map((field) => `."${field.replace(/["\\]/g, '')}"`).join('')}`;
      this.sql('UPDATE docs SET body = json_set(body, ?, json(?)) WHERE collection = ? AND id = ?').run(jsonPath, JSON.stringify(value), collection, id);
    });
  }

  delete(path: string): Promise<void> {
    return this.exclusive(() => {
      const { collection, id } = splitPath(path);
      this.sql('DELETE FROM docs WHERE collection = ? AND id = ?').run(collection, id);
    });
  }

  query<T extends Doc>(collectionPath: string, query: DocQuery): Promise<T[]> {
    return this.exclusive(() => {
      const { text, values } = querySql(collectionPath, query);
      const rows = this.sql(text).all(...values) as Array<{ body: string }>;
      return rows.map((row) => JSON.parse(row.body) as T);
    });
  }

  /** SQLite's plan for a query, as `query` would run it: what tests read to prove the indexes are used. */
  queryPlan(collectionPath: string, query: DocQuery): string {
    const { text, values } = querySql(collectionPath, query);
    const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...values) as Array<{ detail: string }>;
    return rows.map((row) => row.detail).join('; ');
  }

  async close(): Promise<void> {
    while (this.flushing || this.pending.length) await (this.flushing ?? Promise.resolve());
    if (this.db.isOpen) this.db.close();
  }

  /**
   * Queues one operation for the next batch. node:sqlite is synchronous, so a batch runs to its
   * commit without interleaving; operations keep the order they were asked in.
   */
  private exclusive<T>(operation: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run: operation, resolve: resolve as (value: unknown) => void, reject });
      this.flushing ??= new Promise<void>((done) => setImmediate(() => done(this.flush())));
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    const results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.sql('BEGIN IMMEDIATE').run();
      try {
        // No savepoint per operation: each one writes with at most one statement, after its reads
        // and its updater, and SQLite undoes a failed statement by itself. Only an error that
        // ends the whole transaction (disk full, I/O) fails the batch, below.
        for (const operation of batch) {
          try {
            results.push({ ok: true, value: operation.run() });
          } catch (error) {
            if (!this.db.isTransaction) throw error;
            results.push({ ok: false, error });
          }
        }
        this.sql('COMMIT').run();
      } catch (error) {
        if (this.db.isTransaction) this.sql('ROLLBACK').run();
        throw error;
      }
    } catch (error) {
      // The batch did not commit (the file is locked past busy_timeout, the disk is full): all of it failed.
      for (const operation of batch) operation.reject(error);
      return this.next();
    }
    batch.forEach((operation, index) => {
      const result = results[index]!;
      if (result.ok) operation.resolve(result.value);
      else operation.reject(result.error);
    });
    this.next();
  }

  /** Starts the next batch if operations arrived meanwhile. */
  private next(): void {
    this.flushing = this.pending.length ? new Promise<void>((done) => setImmediate(() => done(this.flush()))) : undefined;
  }

  /** Prepared once per statement text: preparing is a large share of a small write's cost. */
  private sql(text: string) {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private write(collection: string, id: string, doc: Doc): void {
    this.sql('INSERT INTO docs (collection, id, body) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body').run(collection, id, JSON.stringify(doc));
  }

  private read<T extends Doc>(collection: string, id: string): T | undefined {
    const row = this.sql('SELECT body FROM docs WHERE collection = ? AND id = ?').get(collection, id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as T) : undefined;
  }
}

/** The SQL expression for a top-level JSON field; the same text in indexes and queries, so indexes are used. */
function querySql(collectionPath: string, query: DocQuery): { text: string; values: Array<string | number | null> } {
  const where = Object.entries(query.where ?? {});
  // The collection literally, as the partial indexes' WHERE says it (a parameter would hide it from the planner).
  const conditions = [`collection = ${literal(collectionPath)}`, ...where.map(([field]) => `${jsonField(field)} = ?`)];
  const order = query.orderBy ? ` ORDER BY ${jsonField(query.orderBy.field)} ${query.orderBy.direction === 'desc' ? 'DESC' : 'ASC'}` : '';
  const values = where.map(([, value]) => (typeof value === 'boolean' ? (value ? 1 : 0) : value));
  return { text: `SELECT body FROM docs WHERE ${conditions.join(' AND ')}${order} LIMIT ?`, values: [...values, query.limit] };
}

function jsonField(field: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw new Error(`invalid field name "${field}"`);
  return `json_extract(body, '$.${field}')`;
}

/** A string as an SQL literal (collection names come from code, but quote them all the same). */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
