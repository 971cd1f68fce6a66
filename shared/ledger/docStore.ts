/**
 * The storage under the run ledger: JSON documents addressed by a slash-separated path
 * (`collection/id`, or deeper as in Firestore), with the conditional writes the pipeline's
 * once-only decisions need. Firestore backs it deployed and under the emulator, SQLite in the
 * embedded runtime; `test/ledger` runs one contract suite against both.
 */
export type Doc = Record<string, unknown>;

/** What an update function returns: the new document, or `undefined` to leave it as it is. */
export type Updater<T extends Doc> = (current: T | undefined) => T | undefined;

/** An equality filter, an order and a limit, evaluated by the store (an index, not a scan). */
export type DocQuery = {
  /** Top-level fields that must equal the given values. */
  where?: Record<string, string | number | boolean>;
  orderBy?: { field: string; direction: 'asc' | 'desc' };
  limit: number;
};

/**
 * An index a query needs. SQLite creates it; Firestore builds single-field indexes by itself, and
 * a composite one (an equality filter with an order) is declared in Terraform as a
 * `google_firestore_index`, which `test/terraform` checks against this list.
 */
export type DocIndex = { collection: string; fields: Array<{ field: string; direction: 'asc' | 'desc' }> };

/**
 * A collection whose documents say when they may go: `field` holds an ISO time. Firestore deletes
 * them by a TTL policy on the field (Terraform's `google_firestore_field`, from stages.json), for
 * which the Firestore store writes the field as a Timestamp; the SQLite store deletes them when
 * it opens the file. Either may keep a document a while past its time.
 */
export type DocExpiry = { collection: string; field: string };

export interface DocStore {
  /** Creates the document only if it does not exist. Resolves true for the one caller that created it. */
  create(path: string, doc: Doc): Promise<boolean>;
  get<T extends Doc>(path: string): Promise<T | undefined>;
  /** Creates or replaces. */
  set(path: string, doc: Doc): Promise<void>;
  /**
   * Atomic read-modify-write: `update` sees the current document and returns the next one.
   * Concurrent updates of one document serialise (Firestore retries the transaction), so a
   * compare-and-set is written as an updater that returns `undefined` when the check fails.
   * `update` must be pure: it may run more than once.
   */
  update<T extends Doc>(path: string, update: Updater<T>): Promise<{ doc: T | undefined; changed: boolean }>;
  /**
   * Sets one field deep inside a document that exists, without reading it (`fields` is the path,
   * e.g. ['outbox', 'push-received', 'publishedAt']); a no-op when the document is gone. Cheaper
   * than `update`: no transaction, no read of the whole document.
   */
  setField(path: string, fields: readonly string[], value: string | number | boolean): Promise<void>;
  /** Removes the document if present (used to release a claim when the work it guarded failed). */
  delete(path: string): Promise<void>;
  /** The documents of a collection that match, in order, at most `limit` of them. */
  query<T extends Doc>(collectionPath: string, query: DocQuery): Promise<T[]>;
  close(): Promise<void>;
}

/** Splits `a/b/c/d` into the collection path `a/b/c` and the id `d`; rejects malformed paths. */
export function splitPath(path: string): { collection: string; id: string } {
  const parts = path.split('/');
  if (parts.length < 2 || parts.length % 2 !== 0 || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`invalid document path "${path}": expected collection/id[/collection/id…]`);
  }
  return { collection: parts.slice(0, -1).join('/'), id: parts[parts.length - 1]! };
}

/** Makes an arbitrary key safe as one document id (no slashes; Firestore forbids them). */
export function docId(...parts: string[]): string {
  return parts.map((part) => encodeURIComponent(part)).join(':');
}
