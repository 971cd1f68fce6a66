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
 * The embedded runtime's document store. Writes run in `BEGIN IMMEDIATE` transactions, so a
 * second process on the same file (`baton approve` beside `baton dev`) serialises with this one.
 */
export class SqliteDocStore implements DocStore {
  private readonly db: DatabaseSyncType;
  private readonly statements = new Map<string, ReturnType<DatabaseSyncType['prepare']>>();
  /** Serialises transactions of this process: node:sqlite is synchronous, but `transact` awaits. */
  private queue: Promise<unknown> = Promise.resolve();

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
    for (const index of indexes) {
      const name = `docs_${index.collection}_${index.fields.map((f) => f.field).join('_')}`.replace(/[^A-Za-z0-9_]/g, '_');
      const columns = index.fields.map((f) => `${jsonField(f.field)} ${f.direction === 'desc' ? 'DESC' : 'ASC'}`).join(', ');
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${name} ON docs (collection, ${columns})`);
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
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const current = this.read<T>(collection, id);
        const next = update(current === undefined ? undefined : structuredClone(current));
        if (next !== undefined) this.write(collection, id, next);
        this.db.exec('COMMIT');
        return next === undefined ? { doc: current, changed: false } : { doc: next, changed: true };
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
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
      const where = Object.entries(query.where ?? {});
      const conditions = ['collection = ?', ...where.map(([field]) => `${jsonField(field)} = ?`)];
      const order = query.orderBy ? ` ORDER BY ${jsonField(query.orderBy.field)} ${query.orderBy.direction === 'desc' ? 'DESC' : 'ASC'}` : '';
      const text = `SELECT body FROM docs WHERE ${conditions.join(' AND ')}${order} LIMIT ?`;
      const values = where.map(([, value]) => (typeof value === 'boolean' ? (value ? 1 : 0) : value));
      const rows = this.sql(text).all(collectionPath, ...values, query.limit) as Array<{ body: string }>;
      return rows.map((row) => JSON.parse(row.body) as T);
    });
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.db.isOpen) this.db.close();
  }

  /**
   * Runs one operation at a time. node:sqlite calls are synchronous, but an update's caller awaits;
   * the queue keeps this process's operations in order.
   */
  private exclusive<T>(operation: () => T | Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
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
function jsonField(field: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw new Error(`invalid field name "${field}"`);
  return `json_extract(body, '$.${field}')`;
}
