import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LEDGER_EXPIRY, LEDGER_INDEXES, RunLedger } from '../../shared/ledger/runLedger.js';
import { SqliteDocStore } from '../../shared/ledger/sqliteDocStore.js';
import { tempDir } from '../support/runtimes.js';
import { newRun } from '../support/stages.js';

/**
 * What the SQLite store adds to the ledger contract (ledger.contract.test.ts): writes committed
 * on a writer thread, compare-and-set updates against other processes, and ledger files written
 * by an older layout.
 */
const require = createRequire(import.meta.url);
const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');

test('two stores on one file (baton approve beside baton dev) lose no update when they race on one run', async () => {
  const file = join(tempDir(), 'ledger.sqlite');
  const [one, two] = [new RunLedger(new SqliteDocStore(file, LEDGER_INDEXES)), new RunLedger(new SqliteDocStore(file, LEDGER_INDEXES))];
  await one!.createRun(newRun({ runId: 'r-shared', after: 'b'.repeat(40) }), new Date(), {}, {});
  const append = (ledger: RunLedger, note: string) => ledger.updateRun('r-shared', (current) => (current.history.push({ at: 'x', by: 'test', note }), true));
  await Promise.all(Array.from({ length: 10 }, (_, i) => append(i % 2 ? one! : two!, `n${i}`)));
  const notes = (await one!.getRun('r-shared'))!.history.map((entry) => entry.note).sort();
  expect(notes).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`).sort());
  await Promise.all([one!.close(), two!.close()]);
});

test('a write resolves once committed: another connection reads it, and one failed write fails alone', async () => {
  const file = join(tempDir(), 'ledger.sqlite');
  const store = new SqliteDocStore(file, LEDGER_INDEXES);
  const other = new DatabaseSync(file);
  other.prepare("INSERT INTO docs (collection, id, body) VALUES ('things', 'broken', 'not json')").run();
  // Asked for together, so they share one transaction on the writer thread.
  const results = await Promise.allSettled([store.create('things/a', { n: 1 }), store.setField('things/broken', ['n'], 2), store.create('things/b', { n: 3 })]);
  expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/malformed JSON/i);
  const bodies = other.prepare("SELECT id, body FROM docs WHERE collection = 'things' ORDER BY id").all();
  expect(bodies).toEqual([
    { id: 'a', body: '{"n":1}' },
    { id: 'b', body: '{"n":3}' },
    { id: 'broken', body: 'not json' },
  ]);
  other.close();
  await store.close();
});

test('a process that asks for a write and returns stays alive until it is committed', async () => {
  const file = join(tempDir(), 'ledger.sqlite');
  const storeModule = new URL('../../shared/ledger/sqliteDocStore.js', import.meta.url).href;
  // No await and no close: only the writer thread, referenced while the batch is out, keeps the process alive.
  const script = `import { SqliteDocStore } from ${JSON.stringify(storeModule)};\nnew SqliteDocStore(${JSON.stringify(file)}).create('things/last', { n: 1 });\n`;
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { stdio: 'inherit' }).on('exit', resolve));
  expect(code).toBe(0);
  const store = new SqliteDocStore(file);
  expect(await store.get('things/last')).toEqual({ n: 1 });
  await store.close();
});

test('a writer thread that dies with a batch out fails that batch, and the next write starts another thread', async () => {
  // The store starts its threads through this module's Worker: a subclass records them, so the
  // test can kill the writer the way an out-of-memory or native crash of that thread would.
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const RealWorker = threads.Worker;
  const writers: InstanceType<typeof RealWorker>[] = [];
  threads.Worker = class extends RealWorker {
    constructor(...args: ConstructorParameters<typeof RealWorker>) {
      super(...args);
      if ((args[1]?.workerData as { role?: string } | undefined)?.role === 'writer') writers.push(this);
    }
  };
  const file = join(tempDir(), 'ledger.sqlite');
  const lock = new DatabaseSync(file);
  let store: SqliteDocStore | undefined;
  try {
    store = new SqliteDocStore(file, LEDGER_INDEXES);
    expect(await store.create('things/first', { n: 1 })).toBe(true);
    expect(writers).toHaveLength(1);
    // Another connection holds the write lock, so the batch is out on the thread, not committed.
    lock.exec('BEGIN IMMEDIATE');
    const lost = store.create('things/lost', { n: 2 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = writers[0]!.terminate();
    lock.exec('ROLLBACK');
    await exited;
    await expect(lost).rejects.toThrow(/writer thread exited/);
    // Nothing of the failed batch landed; a retry of it and later writes go to a new thread.
    expect(await store.get('things/lost')).toBeUndefined();
    expect(await store.create('things/lost', { n: 2 })).toBe(true);
    expect(await store.create('things/after', { n: 3 })).toBe(true);
    expect(writers).toHaveLength(2);
    expect(await store.get('things/lost')).toEqual({ n: 2 });
  } finally {
    threads.Worker = RealWorker;
    lock.close();
    await store?.close();
  }
});

test('documents past their expiry are gone when the file is next opened; the others stay', async () => {
  const file = join(tempDir(), 'ledger.sqlite');
  const first = new SqliteDocStore(file, LEDGER_INDEXES, LEDGER_EXPIRY);
  const hourFrom = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
  await Promise.all([
    first.create('git-reports/old', { key: 'old', expireAt: hourFrom(-1) }),
    first.create('git-reports/fresh', { key: 'fresh', expireAt: hourFrom(1) }),
    // Only the collections LEDGER_EXPIRY names expire, whatever their documents hold.
    first.create('runs/r-1', { runId: 'r-1', expireAt: hourFrom(-1) }),
  ]);
  await first.close();
  const again = new SqliteDocStore(file, LEDGER_INDEXES, LEDGER_EXPIRY);
  expect(await again.get('git-reports/old')).toBeUndefined();
  expect(await again.get('git-reports/fresh')).toMatchObject({ key: 'fresh' });
  expect(await again.get('runs/r-1')).toMatchObject({ runId: 'r-1' });
  await again.close();
});

test('a ledger file of the older layout (indexes over JSON expressions) is brought up to date when opened', async () => {
  const file = join(tempDir(), 'ledger.sqlite');
  const old = new DatabaseSync(file);
  old.exec(`
    PRAGMA journal_mode = WAL;
    CREATE TABLE docs (collection TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (collection, id));
    CREATE INDEX docs_runs_createdAt ON docs (collection, json_extract(body, '$.createdAt') DESC) WHERE collection = 'runs';
  `);
  const insert = old.prepare("INSERT INTO docs (collection, id, body) VALUES ('runs', ?, ?)");
  insert.run('r-1', JSON.stringify({ runId: 'r-1', pipeline: 'shop', createdAt: '2026-01-01T00:00:00.000Z', status: 'succeeded', finishPending: true, deliveryId: 'd-1' }));
  insert.run('r-2', JSON.stringify({ runId: 'r-2', pipeline: 'infra', createdAt: '2026-01-02T00:00:00.000Z', status: 'running', deliveryId: 'd-2' }));
  old.close();

  const store = new SqliteDocStore(file, LEDGER_INDEXES);
  const ids = (rows: Array<{ runId?: unknown }>) => rows.map((row) => row.runId);
  expect(ids(await store.query('runs', { orderBy: { field: 'createdAt', direction: 'desc' }, limit: 10 }))).toEqual(['r-2', 'r-1']);
  expect(ids(await store.query('runs', { where: { pipeline: 'shop' }, orderBy: { field: 'createdAt', direction: 'desc' }, limit: 10 }))).toEqual(['r-1']);
  expect(ids(await store.query('runs', { where: { finishPending: true }, limit: 10 }))).toEqual(['r-1']);
  expect(ids(await store.query('runs', { where: { status: 'running' }, limit: 10 }))).toEqual(['r-2']);
  expect(store.queryPlan('runs', { orderBy: { field: 'createdAt', direction: 'desc' }, limit: 10 })).toMatch(/USING INDEX docs_runs_createdAt/);
  // The fields the layout indexes now move with their documents.
  await store.setField('runs/r-1', ['finishPending'], false);
  await store.update<{ status?: string }>('runs/r-2', (run) => ({ ...run, status: 'failed' }));
  expect(await store.query('runs', { where: { finishPending: true }, limit: 10 })).toEqual([]);
  expect(ids(await store.query('runs', { where: { status: 'failed' }, limit: 10 }))).toEqual(['r-2']);
  await store.close();

  const check = new DatabaseSync(file);
  const indexes = check.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'docs' AND sql IS NOT NULL").all() as Array<{ sql: string }>;
  expect(indexes.length).toBe(LEDGER_INDEXES.length);
  expect(indexes.filter((index) => index.sql.includes('json_extract'))).toEqual([]);
  check.close();
});
