/**
 * The SQLite document store's threads (see `SqliteDocStore`), one module for both roles:
 * - the writer owns the ledger file's only writing connection and runs each batch it receives
 *   as one transaction, so committing costs the event loop that answers webhooks nothing;
 * - the checkpointer copies the WAL back into the database file, with its fsyncs, every
 *   `intervalMs`. The writer never checkpoints (`wal_autocheckpoint = 0`): a checkpoint inside
 *   its commit stalled every write behind it for milliseconds, which bench:intake showed as
 *   the whole difference between the SQLite file and `:memory:`. A PASSIVE checkpoint never
 *   waits for the writer or a reader, so neither waits for it.
 */
import { createRequire } from 'node:module';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { CONNECTION_PRAGMAS, WriteExecutor } from './sqliteWrites.js';
import type { SqliteWrite } from './sqliteWrites.js';

export type WriterData = { role: 'writer'; file: string; columns: readonly string[] } | { role: 'checkpointer'; file: string; intervalMs: number };
export type WriterRequest = { batch: number; writes: SqliteWrite[] } | { close: true };

const require = createRequire(import.meta.url);
const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
const data = workerData as WriterData;
const db = new DatabaseSync(data.file);
db.exec(CONNECTION_PRAGMAS);
db.exec('PRAGMA wal_autocheckpoint = 0');
const port = parentPort!;

if (data.role === 'checkpointer') {
  const timer = setInterval(() => {
    try {
      db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch {
      // Busy (another process's checkpointer has the lock) or closing: the next tick tries again.
    }
  }, data.intervalMs);
  port.on('message', () => {
    clearInterval(timer);
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    db.close();
    port.close();
  });
} else {
  const executor = new WriteExecutor(db, data.columns);
  port.on('message', (first: WriterRequest) => {
    // Every batch that queued up while the last transaction ran goes into this one: under a burst
    // the commits, not the writes, are what the thread spends its time on.
    const requests = [first];
    for (let queued = receiveMessageOnPort(port); queued; queued = receiveMessageOnPort(port)) requests.push(queued.message as WriterRequest);
    const batches = requests.filter((request): request is Extract<WriterRequest, { batch: number }> => 'batch' in request);
    if (batches.length) {
      const outcome = executor.run(batches.flatMap((request) => request.writes));
      let offset = 0;
      for (const { batch, writes } of batches) {
        port.postMessage({ batch, outcome: 'failed' in outcome ? outcome : { results: outcome.results.slice(offset, offset + writes.length) } });
        offset += writes.length;
      }
    }
    if (requests.some((request) => 'close' in request)) {
      db.close();
      port.close();
    }
  });
}
