import type { DatabaseSync } from 'node:sqlite';
import type { Doc, DocIndex } from './docStore.js';
import type { KeyValue } from './sqliteWrites.js';

/**
 * How the SQLite document store lays out its one table: each document's JSON body, plus one
 * column per indexed field that the writer fills in from the document it already has. Indexes
 * and queries use those columns, so SQLite never parses a body to maintain an index; a write that
 * leaves the indexed fields alone (an outbox mark) then touches no index at all. Measured with
 * `npm run bench:intake`, that is what separates SQLite's own cost from the JSON expressions'.
 */
export class SqliteLayout {
  /** The indexed fields' columns, in the order of every write's keys. */
  readonly columns: readonly string[];
  private readonly fields: readonly string[];
  /** Which fields each collection indexes. */
  private readonly indexed = new Map<string, Set<string>>();

  constructor(private readonly indexes: readonly DocIndex[]) {
    for (const index of indexes) {
      const fields = this.indexed.get(index.collection) ?? new Set<string>();
      for (const { field } of index.fields) fields.add(checkedField(field));
      this.indexed.set(index.collection, fields);
    }
    this.fields = [...new Set(indexes.flatMap((index) => index.fields.map((f) => f.field)))];
    this.columns = this.fields.map(columnOf);
  }

  /** A document's indexed fields, as its columns hold them; null where its collection does not index the field. */
  keys(collection: string, doc: Doc): KeyValue[] {
    const indexed = this.indexed.get(collection);
    return this.fields.map((field) => (indexed?.has(field) ? keyValue(doc[field]) : null));
  }

  /** The column a top-level field of the collection lives in, if the collection indexes it. */
  column(collection: string, field: string): string | undefined {
    return this.indexed.get(collection)?.has(field) ? columnOf(field) : undefined;
  }

  /** The SQL for a top-level field in a query: its column when indexed, else the JSON expression. */
  expression(collection: string, field: string): string {
    return this.column(collection, checkedField(field)) ?? `json_extract(body, '$.${field}')`;
  }

  /**
   * Creates the table and its indexes, or brings a ledger file written by an older baton up to
   * this layout: the missing columns are added and filled from the bodies, and the old indexes
   * over JSON expressions are replaced. In one transaction, so two processes opening one file
   * at once do it once.
   */
  setUp(db: DatabaseSync): void {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec('CREATE TABLE IF NOT EXISTS docs (collection TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (collection, id))');
      const present = new Set((db.prepare('PRAGMA table_info(docs)').all() as Array<{ name: string }>).map((column) => column.name));
      for (const field of this.fields) {
        const column = columnOf(field);
        if (present.has(column)) continue;
        // No declared type: a column holds what it is given, text as text and numbers as numbers.
        db.exec(`ALTER TABLE docs ADD COLUMN ${column}`);
        const collections = [...this.indexed].filter(([, fields]) => fields.has(field)).map(([collection]) => literal(collection));
        db.exec(`UPDATE docs SET ${column} = json_extract(body, '$.${field}') WHERE collection IN (${collections.join(', ')})`);
      }
      const old = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'docs' AND sql LIKE '%json_extract%'").all() as Array<{ name: string }>;
      for (const { name } of old) db.exec(`DROP INDEX ${name}`);
      // Partial, so that only documents of the indexed collection pay for the index on a write.
      for (const index of this.indexes) {
        const name = `docs_${index.collection}_${index.fields.map((f) => f.field).join('_')}`.replace(/[^A-Za-z0-9_]/g, '_');
        // The collection leads the columns too: without it the planner prefers the primary key and sorts.
        const columns = ['collection', ...index.fields.map((f) => `${columnOf(f.field)} ${f.direction === 'desc' ? 'DESC' : 'ASC'}`)].join(', ');
        db.exec(`CREATE INDEX IF NOT EXISTS ${name} ON docs (${columns}) WHERE collection = ${literal(index.collection)}`);
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
}

/** A value as its index column holds it: what `json_extract` would give for a scalar. */
export function keyValue(value: unknown): KeyValue {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}

const columnOf = (field: string) => `ix_${checkedField(field)}`;

function checkedField(field: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw new Error(`invalid field name "${field}"`);
  return field;
}

/** A string as an SQL literal (collection names come from code, but quote them all the same). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
