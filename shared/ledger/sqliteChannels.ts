import { createRequire } from 'node:module';
import type { WriterData, WriterRequest } from './sqliteThreads.js';
import type { BatchOutcome, SqliteWrite, WriteExecutor } from './sqliteWrites.js';

const require = createRequire(import.meta.url);

/**
 * Where a batch of writes is committed, and when a batch is handed over. Committing on this
 * thread, a batch waits for the turn of the event loop (every write asked for meanwhile shares
 * its commit); handing over to the writer thread costs only a message, so a write goes at once,
 * and the thread puts every batch that queued up during its last commit into its next one.
 */
export type WriteChannel = { submit(writes: SqliteWrite[]): Promise<BatchOutcome>; schedule(flush: () => void): void; close(): Promise<void> };

export function inThread(executor: WriteExecutor): WriteChannel {
  return { submit: async (writes) => executor.run(writes), schedule: (flush) => setImmediate(flush), close: async () => undefined };
}

/** How often the checkpointer copies the WAL back into the database file. */
const CHECKPOINT_INTERVAL_MS = 200;

/**
 * The writer and checkpointer threads (`sqliteThreads.ts`), started on the first write. The
 * writer keeps the process alive only while a batch is out, the checkpointer never. A writer
 * that dies fails the batches it held, and the next write starts another.
 */
export function writerThread(file: string, columns: readonly string[]): WriteChannel {
  // Loaded on first use: `baton status` and the other readers never start a thread.
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const script = new URL('./sqliteThreads.js', import.meta.url);
  const started = (data: WriterData) => {
    const thread = new Worker(script, { execArgv: threadExecArgv(), workerData: data });
    thread.unref();
    return { thread, exited: new Promise<void>((resolve) => thread.once('exit', () => resolve())) };
  };
  let writer: ReturnType<typeof started> | undefined;
  let checkpointer: ReturnType<typeof started> | undefined;
  let nextBatch = 0;
  const waiting = new Map<number, { resolve: (outcome: BatchOutcome) => void; reject: (error: unknown) => void }>();
  const startWriter = () => {
    const current = started({ role: 'writer', file, columns });
    current.thread.on('message', (message: { batch: number; outcome: BatchOutcome }) => {
      waiting.get(message.batch)?.resolve(message.outcome);
      waiting.delete(message.batch);
      if (!waiting.size) current.thread.unref();
    });
    const lost = (error: unknown) => {
      if (writer === current) writer = undefined;
      for (const { reject } of waiting.values()) reject(error);
      waiting.clear();
    };
    current.thread.on('error', lost);
    current.thread.on('exit', (code) => lost(new Error(`the SQLite writer thread exited (code ${code})`)));
    return current;
  };
  const startCheckpointer = () => {
    const current = started({ role: 'checkpointer', file, intervalMs: CHECKPOINT_INTERVAL_MS });
    // Without it the WAL only grows until the last connection closes (which checkpoints it): no write is lost.
    current.thread.on('error', () => undefined);
    return current;
  };
  return {
    schedule: (flush) => queueMicrotask(flush),
    submit(writes) {
      writer ??= startWriter();
      checkpointer ??= startCheckpointer();
      const batch = nextBatch++;
      writer.thread.ref();
      writer.thread.postMessage({ batch, writes } satisfies WriterRequest);
      return new Promise<BatchOutcome>((resolve, reject) => waiting.set(batch, { resolve, reject }));
    },
    async close() {
      const closing = [writer, checkpointer].filter((thread) => thread !== undefined);
      writer = checkpointer = undefined;
      for (const { thread } of closing) {
        thread.ref();
        thread.postMessage({ close: true } satisfies WriterRequest);
      }
      await Promise.all(closing.map(({ exited }) => exited));
    },
  };
}

/**
 * The process's node flags that its threads share (the warnings it silences, for one), without
 * those that name the process's own entry point: a thread given `--input-type` refuses to start.
 */
function threadExecArgv(): string[] {
  const flags: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const flag = process.execArgv[i]!;
    if (['-e', '--eval', '-p', '--print'].includes(flag)) i++;
    else if (!/^--(input-type|eval|print)=/.test(flag)) flags.push(flag);
  }
  return flags;
}
