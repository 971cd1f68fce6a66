import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { burst } from '../../local/burst.js';
import { startFunctionsFramework } from '../../local/functionsFramework.js';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { RunLedger } from '../../shared/ledger/runLedger.js';
import { tempDir, uniqueProject } from '../support/runtimes.js';

/**
 * The load the issue measured, as a test: 200 signed pushes in 4 s (50 a second) to one
 * pipeline, 40 of them exact redeliveries, against `functions-framework --target=webhookIntake`
 * on the emulators. No document is shared between pushes, so none waits for another.
 */
const SECRET = 'burst-webhook-secret';
const CONFIG = `pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    services: [{ name: frontend, path: src/frontend/ }]
`;

test('200 pushes in 4 s, 40 redeliveries: 160 runs, 40 duplicates, no 5xx, every push answered', async () => {
  const project = uniqueProject();
  const configFile = join(tempDir(), 'baton.yaml');
  writeFileSync(configFile, CONFIG);
  const server = await startFunctionsFramework('webhookIntake', {
    ...process.env,
    GOOGLE_CLOUD_PROJECT: project,
    BATON_CONFIG: configFile,
    GITHUB_WEBHOOK_SECRET: SECRET,
    METADATA_SERVER_DETECTION: 'none',
    LOG_LEVEL: 'warn',
  });
  const ledger = new RunLedger(new FirestoreDocStore({ projectId: project }));
  try {
    // One push first, so the instance is warm (clients connected), as a serving function's is.
    await burst({ url: server.url, secret: SECRET, repository: 'acme/shop', requests: 1, redeliveries: 0, durationMs: 1 });
    const result = await burst({ url: server.url, secret: SECRET, repository: 'acme/shop', requests: 200, redeliveries: 40, durationMs: 4_000 });
    expect({ accepted: result.accepted, duplicates: result.duplicates, errors: result.errors, unanswered: result.unanswered, runs: result.runIds.size }).toEqual({ accepted: 160, duplicates: 40, errors: 0, unanswered: 0, runs: 160 });
    // Latency is `npm run bench:burst`'s to print (p50, p99, max), not a timed assertion here.
    // Every accepted run is in the ledger, with its event published.
    const runs = await ledger.listRuns({ limit: 500 });
    const ours = runs.filter((run) => result.runIds.has(run.runId));
    expect(ours).toHaveLength(160);
    expect(ours.every((run) => run.outbox['push-received']?.publishedAt !== undefined)).toBe(true);
  } finally {
    await server.stop();
    await ledger.close();
  }
}, 120_000);
