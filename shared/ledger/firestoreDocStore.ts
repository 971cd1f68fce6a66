import type { Firestore } from '@google-cloud/firestore';
import type { Doc, DocExpiry, DocQuery, DocStore, Updater } from './docStore.js';
import { splitPath } from './docStore.js';
import { requireCredentials } from '../runtime/credentials.js';

const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;

export type FirestoreDocStoreOptions = {
  projectId?: string;
  /** Prefix for every top-level collection, so tests (or several pipelines) can share one database. */
  namespace?: string;
  /** Collections whose documents carry their expiry: written as a Timestamp, which Firestore's TTL policy reads. */
  expiry?: readonly DocExpiry[];
};

/**
 * The deployed document store. `create()` is Firestore's once-only write (ALREADY_EXISTS for
 * every caller but one) and `update()` runs in a transaction, which Firestore retries on
 * contention. The SDK is loaded on first use.
 */
export class FirestoreDocStore implements DocStore {
  private client?: Promise<Firestore>;

  constructor(private readonly options: FirestoreDocStoreOptions = {}) {}

  async create(path: string, doc: Doc): Promise<boolean> {
    const ref = (await this.db()).doc(this.path(path));
    try {
      await ref.create(await this.stored(path, doc));
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === ALREADY_EXISTS) return false;
      throw error;
    }
  }

  async get<T extends Doc>(path: string): Promise<T | undefined> {
    const snapshot = await (await this.db()).doc(this.path(path)).get();
    return snapshot.exists ? (this.read(path, snapshot.data()!) as T) : undefined;
  }

  async set(path: string, doc: Doc): Promise<void> {
    await (await this.db()).doc(this.path(path)).set(await this.stored(path, doc));
  }

  async update<T extends Doc>(path: string, update: Updater<T>): Promise<{ doc: T | undefined; changed: boolean }> {
    const db = await this.db();
    const ref = db.doc(this.path(path));
    return db.runTransaction(async (transaction) => {
      const snapshot = await transaction.get(ref);
      const current = snapshot.exists ? (this.read(path, snapshot.data()!) as T) : undefined;
      const next = update(current === undefined ? undefined : structuredClone(current));
      if (next === undefined) return { doc: current, changed: false };
      transaction.set(ref, await this.stored(path, next));
      return { doc: next, changed: true };
    });
  }

  async setField(path: string, fields: readonly string[], value: string | number | boolean): Promise<void> {
    const { FieldPath } = await import('@google-cloud/firestore');
    try {
      await (await this.db()).doc(this.path(path)).update(new FieldPath(...fields), value);
    } catch (error) {
      if ((error as { code?: number }).code !== NOT_FOUND) throw error;
    }
  }

  async delete(path: string): Promise<void> {
    await (await this.db()).doc(this.path(path)).delete();
  }

  async query<T extends Doc>(collectionPath: string, query: DocQuery): Promise<T[]> {
    let ref: FirebaseFirestore.Query = (await this.db()).collection(this.path(`${collectionPath}/x`).replace(/\/x$/, ''));
    for (const [field, value] of Object.entries(query.where ?? {})) ref = ref.where(field, '==', value);
    if (query.orderBy) ref = ref.orderBy(query.orderBy.field, query.orderBy.direction);
    const snapshot = await ref.limit(query.limit).get();
    return snapshot.docs.map((doc) => this.read(`${collectionPath}/${doc.id}`, doc.data()) as T);
  }

  async close(): Promise<void> {
    if (!this.client) return;
    await (await this.client).terminate();
    this.client = undefined;
  }

  private expiryField(path: string): string | undefined {
    const { collection } = splitPath(path);
    return this.options.expiry?.find((expiry) => expiry.collection === collection)?.field;
  }

  /** A document as Firestore keeps it: its expiry a Timestamp, which is the type a TTL policy reads. */
  private async stored(path: string, doc: Doc): Promise<Doc> {
    const field = this.expiryField(path);
    const value = field ? doc[field] : undefined;
    if (!field || typeof value !== 'string') return doc;
    const { Timestamp } = await import('@google-cloud/firestore');
    return { ...doc, [field]: Timestamp.fromDate(new Date(value)) };
  }

  /** A document as the ledger reads it: JSON, its expiry an ISO time again. */
  private read(path: string, data: Doc): Doc {
    const field = this.expiryField(path);
    const value = field ? (data[field] as { toDate?: () => Date } | undefined) : undefined;
    return field && typeof value?.toDate === 'function' ? { ...data, [field]: value.toDate().toISOString() } : data;
  }

  private path(path: string): string {
    splitPath(path);
    return this.options.namespace ? `${this.options.namespace}${path}` : path;
  }

  private db(): Promise<Firestore> {
    this.client ??= requireCredentials('Firestore', 'FIRESTORE_EMULATOR_HOST')
      .then(() => import('@google-cloud/firestore'))
      .then(({ Firestore }) => new Firestore({ projectId: this.options.projectId, ignoreUndefinedProperties: true }))
      .catch((error: unknown) => {
        this.client = undefined;
        throw error;
      });
    return this.client;
  }
}
