import type { DatabaseSync } from 'node:sqlite';

/** A value of an indexed field, as its column holds it (booleans as 1 and 0, like `json_extract`). */
export type KeyValue = string | number | null;

/**
 * The SQLite document store's writes, as plain data: what the writer thread receives, and what
 * the in-thread executor (`:memory:`) runs. Each is one statement, so a batch of them is one
 * transaction with no savepoints: SQLite undoes a failed statement by itself. A document's
 * `keys` are its indexed fields in the store's column order (see `SqliteDocStore`).
 */
export type SqliteWrite =
  /** Insert if absent; the result says whether this write created it. */
  | { op: 'insert'; collection: string; id: string; body: string; keys: KeyValue[] }
  /** Insert or replace. */
  | { op: 'put'; collection: string; id: string; body: string; keys: KeyValue[] }
  /**
   * Compare-and-set: replace the body only if it is still `expected` (or create it only if it is
   * still absent, when `expected` is null). The result says whether it was written.
   */
  | { op: 'swap'; collection: string; id: string; expected: string | null; body: string; keys: KeyValue[] }
  /** One field deep inside the body, without reading it in JavaScript; `column` when the field is an indexed one. */
  | { op: 'setField'; collection: string; id: string; jsonPath: string; value: string; column?: { name: string; value: KeyValue } }
  | { op: 'delete'; collection: string; id: string };

/** One write's result: its value, or its error as data (errors cross the thread boundary as messages). */
export type WriteResult = { ok: true; value: boolean } | { ok: false; message: string };

/** A batch's outcome: every write's result, or the error that kept the whole transaction from committing. */
export type BatchOutcome = { results: WriteResult[] } | { failed: string };

/** Runs batches of writes on one connection, each batch in one `BEGIN IMMEDIATE` transaction. */
export class WriteExecutor {
  private readonly sql: (text: string) => Statement;
  private readonly text: { insert: string; put: string; swap: string };

  /** `columns`: the indexed fields' columns, in the order of every write's `keys`. */
  constructor(
    private readonly db: DatabaseSync,
    columns: readonly string[],
  ) {
    this.sql = preparedStatements(db);
    const names = ['collection', 'id', 'body', ...columns].join(', ');
    const values = ['?', '?', '?', ...columns.map(() => '?')].join(', ');
    this.text = {
      insert: `INSERT OR IGNORE INTO docs (${names}) VALUES (${values})`,
      put: `INSERT INTO docs (${names}) VALUES (${values}) ON CONFLICT (collection, id) DO UPDATE SET ${['body', ...columns].map((column) => `${column} = excluded.${column}`).join(', ')}`,
      swap: `UPDATE docs SET ${['body', ...columns].map((column) => `${column} = ?`).join(', ')} WHERE collection = ? AND id = ? AND body = ?`,
    };
  }

  run(batch: readonly SqliteWrite[]): BatchOutcome {
    const results: WriteResult[] = [];
    try {
      this.sql('BEGIN IMMEDIATE').run();
      try {
        for (const write of batch) {
          try {
            results.push({ ok: true, value: this.apply(write) });
          } catch (error) {
            // Only an error that ends the whole transaction (disk full, I/O) fails the batch.
            if (!this.db.isTransaction) throw error;
            results.push({ ok: false, message: (error as Error).message });
          }
        }
        this.sql('COMMIT').run();
      } catch (error) {
        if (this.db.isTransaction) this.sql('ROLLBACK').run();
        throw error;
      }
    } catch (error) {
      // The batch did not commit (the file is locked past busy_timeout, the disk is full): all of it failed.
      return { failed: (error as Error).message };
    }
    return { results };
  }

  private apply(write: SqliteWrite): boolean {
    const changed = (result: { changes: number | bigint }) => Number(result.changes) === 1;
    switch (write.op) {
      case 'insert':
        return changed(this.sql(this.text.insert).run(write.collection, write.id, write.body, ...write.keys));
      case 'put':
        return changed(this.sql(this.text.put).run(write.collection, write.id, write.body, ...write.keys));
      case 'swap':
        if (write.expected === null) return changed(this.sql(this.text.insert).run(write.collection, write.id, write.body, ...write.keys));
        return changed(this.sql(this.text.swap).run(write.body, ...write.keys, write.collection, write.id, write.expected));
      case 'setField':
        if (write.column) {
          const statement = this.sql(`UPDATE docs SET body = json_set(body, ?, json(?)), ${write.column.name} = ? WHERE collection = ? AND id = ?`);
          return changed(statement.run(write.jsonPath, write.value, write.column.value, write.collection, write.id));
        }
        return changed(this.sql('UPDATE docs SET body = json_set(body, ?, json(?)) WHERE collection = ? AND id = ?').run(write.jsonPath, write.value, write.collection, write.id));
      case 'delete':
        return changed(this.sql('DELETE FROM docs WHERE collection = ? AND id = ?').run(write.collection, write.id));
    }
  }
}

type Statement = ReturnType<DatabaseSync['prepare']>;

/** A connection's statements, each prepared once per text: preparing is a large share of a small statement's cost. */
export function preparedStatements(db: DatabaseSync): (text: string) => Statement {
  const statements = new Map<string, Statement>();
  return (text) => {
    let statement = statements.get(text);
    if (!statement) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
}

/** The pragmas every connection to a ledger file sets. */
export const CONNECTION_PRAGMAS = `
  PRAGMA journal_mode = WAL;
  PRAGMA busy_timeout = 5000;
  -- WAL with NORMAL sync: a commit does not wait for fsync (durable at checkpoints), which is
  -- the right trade for a local ledger that the demo and baton dev rebuild at will.
  PRAGMA synchronous = NORMAL;
`;
