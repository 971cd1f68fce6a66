import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { createRequire } from 'node:module';
import { splitPath } from './docStore.js';
import type { Doc, DocStore, Updater } from './docStore.js';

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

  constructor(file: string) {
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
  }

  async create(path: string, doc: Doc): Promise<boolean> {
    const { collection, id } = splitPath(path);
    const result = this.db.prepare('INSERT OR IGNORE INTO docs (collection, id, body) VALUES (?, ?, ?)').run(collection, id, JSON.stringify(doc));
    return Number(result.changes) === 1;
  }

  async get<T extends Doc>(path: string): Promise<T | undefined> {
    const { collection, id } = splitPath(path);
    return this.read<T>(collection, id);
  }

  async set(path: string, doc: Doc): Promise<void> {
    const { collection, id } = splitPath(path);
    this.db
      .prepare('INSERT INTO docs (collection, id, body) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body')
      .run(collection, id, JSON.stringify(doc));
  }

  async update<T extends Doc>(path: string, update: Updater<T>): Promise<{ doc: T | undefined; changed: boolean }> {
    const { collection, id } = splitPath(path);
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const current = this.read<T>(collection, id);
      const next = update(current === undefined ? undefined : structuredClone(current));
      if (next === undefined) {
        this.db.exec('COMMIT');
        return { doc: current, changed: false };
      }
      this.db
        .prepare('INSERT INTO docs (collection, id, body) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body')
        .run(collection, id, JSON.stringify(next));
      this.db.exec('COMMIT');
      return { doc: next, changed: true };
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    const { collection, id } = splitPath(path);
    this.db.prepare('DELETE FROM docs WHERE collection = ? AND id = ?').run(collection, id);
  }

  async list<T extends Doc>(collectionPath: string): Promise<T[]> {
    const rows = this.db.prepare('SELECT body FROM docs WHERE collection = ? ORDER BY id').all(collectionPath) as Array<{ body: string }>;
    return rows.map((row) => JSON.parse(row.body) as T);
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  private read<T extends Doc>(collection: string, id: string): T | undefined {
    const row = this.db.prepare('SELECT body FROM docs WHERE collection = ? AND id = ?').get(collection, id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as T) : undefined;
  }
}
