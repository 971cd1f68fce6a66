import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { requireKey } from '../../shared/config/pipelineConfig.js';
import type { GitAuthMode } from '../../domain/chart/gitRemoteAuth.js';
import { gitAuthMode } from '../../domain/chart/gitRemoteAuth.js';
import { parseChartRegistry } from '../../domain/chart/ociPublish.js';
import { DEFAULT_IMAGE_PATH } from '../../domain/chart/valuesPath.js';
import { isLoopbackHost } from '../../shared/oci/registryClient.js';

/** A pipeline's `chart` block with its defaults filled in; missing required keys name file and field. */
export type ChartSettings = {
  repo: string;
  branch: string;
  /** Chart directory inside the repo. */
  path: string;
  valuesFile: string;
  imagePath: string;
  /** `oci://host/path`. */
  registry: string;
  registryHost: string;
  registryPath: string;
  gitAuth: GitAuthMode;
  registryAuth: GitAuthMode;
};

export function chartSettings(config: BatonConfig, pipeline: Pipeline, defaultRegistry?: string): ChartSettings {
  const chart = pipeline.chart ?? {};
  const repo = requireKey(config, pipeline, 'chart.repo', chart.repo, 'chartBump');
  const path = requireKey(config, pipeline, 'chart.path', chart.path, 'chartBump');
  const registry = requireKey(config, pipeline, 'chart.registry', chart.registry ?? defaultRegistry, 'chartBump');
  const { host, path: registryPath } = parseChartRegistry(registry);
  return {
    repo,
    branch: chart.branch ?? 'main',
    path: path.replace(/^\/+|\/+$/g, ''),
    valuesFile: chart.valuesFile ?? 'values.yaml',
    imagePath: chart.imagePath ?? DEFAULT_IMAGE_PATH,
    registry,
    registryHost: host,
    registryPath,
    gitAuth: gitAuthMode(repo, chart.auth),
    registryAuth: chart.auth ?? (isLoopbackHost(host) ? 'none' : 'google'),
  };
}
