import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { createRequire } from 'node:module';
import { splitPath } from './docStore.js';
import type { Doc, DocExpiry, DocIndex, DocQuery, DocStore, Updater } from './docStore.js';
import { CONNECTION_PRAGMAS, WriteExecutor, preparedStatements } from './sqliteWrites.js';
import type { BatchOutcome, SqliteWrite } from './sqliteWrites.js';
import { inThread, writerThread } from './sqliteChannels.js';
import type { WriteChannel } from './sqliteChannels.js';
import { SqliteLayout, keyValue, literal } from './sqliteLayout.js';

// node:sqlite is Node 22's built-in SQLite: no native addon to compile (an addon built by npm
// under the machine's Node 20 would not load under Node 22). Loaded through require so that
// importing this module costs nothing until a store is opened, and so its one-time
// "experimental" warning only appears in the embedded runtime.
const require = createRequire(import.meta.url);

/** How often one update may lose its compare-and-set to another process's write before it gives up. */
const MAX_UPDATE_ATTEMPTS = 20;

/**
 * The embedded runtime's document store.
 *
 * Writes are group-committed on a writer thread (`sqliteChannels.ts`): the writes asked for in
 * one turn go over as one batch, the thread puts every batch that queued up while its last
 * transaction ran into its next `BEGIN IMMEDIATE` transaction, and each write resolves once that
 * transaction has committed. A checkpointer thread copies the WAL back, fsyncs included. So a
 * commit costs the event loop that answers webhooks a message, not the commit: measured with
 * `npm run bench:intake`, the SQLite file is then as fast as `:memory:` (see the README).
 * Reads run on this thread's own connection, which WAL lets read beside the writer, and see
 * every write that has resolved.
 *
 * `update` is a compare-and-set: it reads here, runs the updater, and the writer replaces the
 * document only if it is still what was read; otherwise it reads again and retries, the way a
 * Firestore transaction does. Updates of one document from this process take turns, so only a
 * second process on the same file (`baton approve` beside `baton dev`) can make one retry.
 *
 * `:memory:` has no second connection to give a thread, so its writes run here, batched alike.
 */
export class SqliteDocStore implements DocStore {
  private readonly db: DatabaseSyncType;
  private readonly sql: ReturnType<typeof preparedStatements>;
  private readonly channel: WriteChannel;
  private readonly layout: SqliteLayout;
  /** Writes waiting for the next batch. */
  private pending: Array<{ write: SqliteWrite; resolve: (value: boolean) => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  /** Batches handed over whose outcome has not come back. */
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];
  /** The tail of each document's queue of updates from this process. */
  private readonly updating = new Map<string, Promise<unknown>>();

  constructor(file: string, indexes: readonly DocIndex[] = [], expiry: readonly DocExpiry[] = []) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
    this.db = new DatabaseSync(file);
    this.db.exec(CONNECTION_PRAGMAS);
    this.sql = preparedStatements(this.db);
    // An expiry field is indexed like any other, so that the pruning below walks an index instead
    // of parsing every body of the expiring collections on each open (measured: 45-50 ms per
    // command with 80,000 claims and reports, under 2 ms with the index).
    this.layout = new SqliteLayout([...indexes, ...expiry.map(({ collection, field }) => ({ collection, fields: [{ field, direction: 'asc' as const }] }))]);
    this.layout.setUp(this.db);
    // Documents past their expiry go when the file is opened, as `baton dev` and every CLI command do.
    const now = new Date().toISOString();
    for (const { collection, field } of expiry) this.sql(`DELETE FROM docs WHERE collection = ? AND ${this.layout.expression(collection, field)} < ?`).run(collection, now);
    this.channel = file === ':memory:' ? inThread(new WriteExecutor(this.db, this.layout.columns)) : writerThread(file, this.layout.columns);
  }

  async create(path: string, doc: Doc): Promise<boolean> {
    const { collection, id } = splitPath(path);
    return this.write({ op: 'insert', collection, id, body: JSON.stringify(doc), keys: this.layout.keys(collection, doc) });
  }

  async get<T extends Doc>(path: string): Promise<T | undefined> {
    const { collection, id } = splitPath(path);
    const body = this.readBody(collection, id);
    return body === undefined ? undefined : (JSON.parse(body) as T);
  }

  async set(path: string, doc: Doc): Promise<void> {
    const { collection, id } = splitPath(path);
    await this.write({ op: 'put', collection, id, body: JSON.stringify(doc), keys: this.layout.keys(collection, doc) });
  }

  async update<T extends Doc>(path: string, update: Updater<T>): Promise<{ doc: T | undefined; changed: boolean }> {
    const { collection, id } = splitPath(path);
    return this.inTurn(path, async () => {
      for (let attempt = 1; ; attempt++) {
        const expected = this.readBody(collection, id);
        // The read is fresh (JSON.parse), so the updater may change it in place.
        const current = expected === undefined ? undefined : (JSON.parse(expected) as T);
        const next = update(current);
        if (next === undefined) return { doc: current, changed: false };
        if (await this.write({ op: 'swap', collection, id, expected: expected ?? null, body: JSON.stringify(next), keys: this.layout.keys(collection, next) })) return { doc: next, changed: true };
        if (attempt === MAX_UPDATE_ATTEMPTS) throw new Error(`update of ${path} lost to other writers ${attempt} times in a row`);
      }
    });
  }

  async setField(path: string, fields: readonly string[], value: string | number | boolean): Promise<void> {
    const { collection, id } = splitPath(path);
    const jsonPath = `$${fields.map((field) => `."${field.replace(/["\\]/g, '')}"`).join('')}`;
    const column = fields.length === 1 ? this.layout.column(collection, fields[0]!) : undefined;
    await this.write({ op: 'setField', collection, id, jsonPath, value: JSON.stringify(value), ...(column ? { column: { name: column, value: keyValue(value) } } : {}) });
  }

  async delete(path: string): Promise<void> {
    const { collection, id } = splitPath(path);
    await this.write({ op: 'delete', collection, id });
  }

  async query<T extends Doc>(collectionPath: string, query: DocQuery): Promise<T[]> {
    const { text, values } = querySql(this.layout, collectionPath, query);
    const rows = this.sql(text).all(...values) as Array<{ body: string }>;
    return rows.map((row) => JSON.parse(row.body) as T);
  }

  /** SQLite's plan for a query, as `query` would run it: what tests read to prove the indexes are used. */
  queryPlan(collectionPath: string, query: DocQuery): string {
    const { text, values } = querySql(this.layout, collectionPath, query);
    const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...values) as Array<{ detail: string }>;
    return rows.map((row) => row.detail).join('; ');
  }

  async close(): Promise<void> {
    while (this.pending.length || this.inFlight) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.channel.close();
    if (this.db.isOpen) this.db.close();
  }

  /** Queues one write for the next batch; batches keep the order writes were asked in. */
  private write(write: SqliteWrite): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      this.channel.schedule(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    this.inFlight++;
    const settle = (outcome: BatchOutcome) => {
      batch.forEach((entry, index) => {
        if ('failed' in outcome) return entry.reject(new Error(outcome.failed));
        const result = outcome.results[index]!;
        if (result.ok) entry.resolve(result.value);
        else entry.reject(new Error(result.message));
      });
    };
    // Through a promise, so that a channel that throws (a thread that cannot start) fails the batch instead of stranding it.
    Promise.resolve()
      .then(() => this.channel.submit(batch.map((entry) => entry.write)))
      .then(settle, (error: unknown) => settle({ failed: (error as Error).message }))
      .finally(() => {
        this.inFlight--;
        if (!this.inFlight && !this.pending.length) this.idleWaiters.splice(0).forEach((wake) => wake());
      });
  }

  /** Runs one document's updates from this process one after another, so that they do not make each other retry. */
  private inTurn<T>(path: string, operation: () => Promise<T>): Promise<T> {
    const result = (this.updating.get(path) ?? Promise.resolve()).then(operation);
    const tail = result.catch(() => undefined);
    this.updating.set(path, tail);
    void tail.then(() => {
      if (this.updating.get(path) === tail) this.updating.delete(path);
    });
    return result;
  }

  private readBody(collection: string, id: string): string | undefined {
    const row = this.sql('SELECT body FROM docs WHERE collection = ? AND id = ?').get(collection, id) as { body: string } | undefined;
    return row?.body;
  }
}

/** A query as SQL over the layout's columns, so that SQLite answers it from an index. */
function querySql(layout: SqliteLayout, collectionPath: string, query: DocQuery): { text: string; values: Array<string | number | null> } {
  const where = Object.entries(query.where ?? {});
  // The collection literally, as the partial indexes' WHERE says it (a parameter would hide it from the planner).
  const conditions = [`collection = ${literal(collectionPath)}`, ...where.map(([field]) => `${layout.expression(collectionPath, field)} = ?`)];
  const order = query.orderBy ? ` ORDER BY ${layout.expression(collectionPath, query.orderBy.field)} ${query.orderBy.direction === 'desc' ? 'DESC' : 'ASC'}` : '';
  const values = where.map(([, value]) => keyValue(value));
  return { text: `SELECT body FROM docs WHERE ${conditions.join(' AND ')}${order} LIMIT ?`, values: [...values, query.limit] };
}
