import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DEMO_ENVIRONMENTS } from '../../cli/demo/workspace.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import type { ReleaseImage } from '../../shared/contracts/index.js';
import { startPrometheus } from '../../local/prometheus/prometheus.js';
import type { LocalPrometheus } from '../../local/prometheus/prometheus.js';
import { startFakeArgoCd } from '../../standins/argocdApi.js';
import type { FakeArgoCd } from '../../standins/argocdApi.js';
import { startWorkloadMetrics } from '../../standins/workloadMetrics.js';
import type { WorkloadMetrics } from '../../standins/workloadMetrics.js';

/**
 * What a pipeline with environments deploys to, for tests: Argo CD's stand-in (at its HTTP
 * boundary), the workloads' metrics endpoint, and a real Prometheus scraping it every second.
 * `follow` plays the cluster: whenever the ledger shows a new deployment of an environment (the
 * chart commit chartBump recorded), the environment's Application syncs to it and its pods serve
 * the new images, erring at `errorRatio(image)`.
 */
export type EnvironmentStandIns = {
  argocd: FakeArgoCd;
  token: string;
  metrics: WorkloadMetrics;
  prometheus: LocalPrometheus;
  follow(ledger: RunLedger, pipeline: string, errorRatio: (image: ReleaseImage, deployedBy: string) => number): () => void;
  close(): Promise<void>;
};

export async function startEnvironmentStandIns(root: string): Promise<EnvironmentStandIns> {
  const token = `argocd-test-${randomBytes(8).toString('hex')}`;
  // The Applications exist before any deploy, as Terraform creates them.
  const [argocd, metrics] = await Promise.all([startFakeArgoCd({ token, applications: Object.fromEntries(DEMO_ENVIRONMENTS.map((environment) => [environment.application, { outcome: 'healthy' as const }])) }), startWorkloadMetrics()]);
  const prometheus = await startPrometheus({ dataDir: join(root, 'prometheus'), scrapeTargets: [metrics.target] });
  await prometheus.ready();
  const follow: EnvironmentStandIns['follow'] = (ledger, pipeline, errorRatio) => {
    const seen = new Map<string, string>();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        for (const environment of DEMO_ENVIRONMENTS) {
          const last = (await ledger.environments.get(pipeline, environment.name)).history.at(-1);
          if (!last?.chartVersion || seen.get(environment.name) === `${last.runId}@${last.chartVersion}`) continue;
          seen.set(environment.name, `${last.runId}@${last.chartVersion}`);
          argocd.sync(environment.application, { revision: last.chartVersion, images: Object.fromEntries(last.images.map((image) => [image.service, `${image.repository}@${image.digest}`])) });
          for (const image of last.images) metrics.setTraffic({ service: image.service, digest: image.digest, rps: 20, errorRatio: errorRatio(image, last.runId) });
        }
      })()
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, 100);
    return () => clearInterval(timer);
  };
  return {
    argocd,
    token,
    metrics,
    prometheus,
    follow,
    close: async () => {
      await Promise.allSettled([argocd.close(), metrics.close(), prometheus.stop()]);
    },
  };
}
