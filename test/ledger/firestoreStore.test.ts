import { Firestore, Timestamp } from '@google-cloud/firestore';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { LEDGER_EXPIRY } from '../../shared/ledger/runLedger.js';
import { uniqueProject } from '../support/runtimes.js';

/**
 * What the Firestore store adds to the ledger contract (ledger.contract.test.ts), on the
 * emulator: an expiring collection's time is stored as a Timestamp, the only type a TTL policy
 * (Terraform's google_firestore_field) acts on, and read back as the ISO time it was written as.
 */
test('an expiring document keeps its time as a Timestamp in Firestore, and the ledger reads it back as ISO', async () => {
  const projectId = uniqueProject();
  const store = new FirestoreDocStore({ projectId, expiry: LEDGER_EXPIRY });
  const raw = new Firestore({ projectId });
  const expireAt = '2027-01-01T00:00:00.000Z';
  try {
    await store.create('git-reports/claim', { key: 'claim', expireAt });
    await store.set('git-reports/record', { key: 'record', expireAt });
    await store.update('git-reports/record', (current) => ({ ...current!, value: { rank: 2 } }));
    await store.create('claims/build', { key: 'build', expireAt });
    await store.create('runs/r-1', { runId: 'r-1', expireAt });
    for (const path of ['git-reports/claim', 'git-reports/record', 'claims/build']) {
      const stored = (await raw.doc(path).get()).get('expireAt') as unknown;
      expect(stored).toBeInstanceOf(Timestamp);
      expect((stored as Timestamp).toDate().toISOString()).toBe(expireAt);
      expect(await store.get(path)).toMatchObject({ key: path.split('/')[1], expireAt });
    }
    expect(await store.query('git-reports', { limit: 10 })).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'record', expireAt, value: { rank: 2 } })]));
    // A collection LEDGER_EXPIRY does not name keeps its fields as written.
    expect((await raw.doc('runs/r-1').get()).get('expireAt')).toBe(expireAt);
  } finally {
    await store.close();
    await raw.terminate();
  }
});
