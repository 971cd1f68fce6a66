import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Two Online Boutique services, so the real chart's `services.<name>.image` blocks are what gets bumped. */
export const DEMO_SERVICES = ['frontend', 'cartservice'] as const;
export const DEMO_REPOSITORY = 'acme/online-boutique';
export const DEMO_APPROVER = { id: 'U0DEMOAPPROVER', username: 'ops-lead', name: 'Ops Lead', email: 'ops-lead@example.com' };
const DEVELOPER = { name: 'Dana Developer', email: 'dana@example.com' };

export type Workspace = {
  root: string;
  /** The "GitHub" repository (bare) the developer pushes to. */
  source: string;
  /** The developer's clone. */
  clone: string;
  /** The backup remote the mirror stage pushes to (bare, empty at first). */
  mirror: string;
  /** The chart repository (bare), seeded with charts/online-boutique. */
  charts: string;
  configPath: string;
};

/** `git` with a fixed identity and no user config, so the demo behaves the same on every machine. */
const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: DEVELOPER.name,
  GIT_AUTHOR_EMAIL: DEVELOPER.email,
  GIT_COMMITTER_NAME: DEVELOPER.name,
  GIT_COMMITTER_EMAIL: DEVELOPER.email,
};

const git = async (cwd: string, ...args: string[]) =>
  (await run('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

export type WorkspaceOptions = {
  /** Path under the registry for this workspace's images and charts (tests share one registry). Default: none. */
  registryPath?: string;
  /** Extra approvers besides the demo's Slack approver (e.g. `cli:<name>`). */
  approvers?: string[];
  /** dev (auto, verified) then prod (approval, verified), deployed by this Argo CD and checked against this Prometheus. Default: the one implicit environment. */
  environments?: { argocdUrl: string; verifyFor: string };
};

/** The demo's environments: their Argo CD Applications and values files (the chart's own). */
export const DEMO_ENVIRONMENTS = [
  { name: 'dev', promotion: 'auto', application: 'online-boutique-dev', values: 'values-dev.yaml' },
  { name: 'prod', promotion: 'approval', application: 'online-boutique-prod', values: 'values-prod.yaml' },
] as const;

/**
 * The demo's one check: each service's share of 5xx answers at the release's digest, from the
 * workload's own request counter. Per service (`$service`, `$digest`), so Slack names the culprit.
 */
export const DEMO_ERROR_RATIO_QUERY =
  'sum(rate(http_requests_total{service="$service",digest="$digest",code=~"5.."}[5s])) / sum(rate(http_requests_total{service="$service",digest="$digest"}[5s]))';

export async function createWorkspace(root: string, chartSource: string, registry: string, options: WorkspaceOptions = {}): Promise<Workspace> {
  const ws: Workspace = {
    root,
    source: join(root, 'git', 'online-boutique.git'),
    clone: join(root, 'work', 'online-boutique'),
    mirror: join(root, 'git', 'mirror', 'online-boutique.git'),
    charts: join(root, 'git', 'charts.git'),
    configPath: join(root, 'baton.yaml'),
  };
  for (const bare of [ws.source, ws.mirror, ws.charts]) {
    mkdirSync(bare, { recursive: true });
    await git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
  }

  // The sample monorepo: each service a FROM scratch image (nothing can be downloaded here).
  mkdirSync(ws.clone, { recursive: true });
  await git(ws.clone, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(ws.clone, 'README.md'), '# online-boutique (baton demo)\n');
  for (const service of DEMO_SERVICES) {
    const dir = join(ws.clone, 'src', service);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), `FROM scratch\nCOPY version.txt /srv/${service}/version.txt\n`);
    writeFileSync(join(dir, 'version.txt'), `${service} 1\n`);
  }
  await git(ws.clone, 'add', '-A');
  await git(ws.clone, 'commit', '--quiet', '-m', 'Initial commit: frontend and cartservice');
  await git(ws.clone, 'remote', 'add', 'origin', ws.source);
  await git(ws.clone, 'push', '--quiet', 'origin', 'main');

  // The chart repository, seeded from this project's own chart.
  const chartClone = join(root, 'work', 'charts');
  mkdirSync(chartClone, { recursive: true });
  await git(chartClone, 'init', '--quiet', '--initial-branch=main');
  cpSync(chartSource, join(chartClone, 'charts', 'online-boutique'), { recursive: true });
  await git(chartClone, 'add', '-A');
  await git(chartClone, 'commit', '--quiet', '-m', 'Add the online-boutique chart');
  await git(chartClone, 'remote', 'add', 'origin', ws.charts);
  await git(chartClone, 'push', '--quiet', 'origin', 'main');

  writeFileSync(ws.configPath, demoConfig(ws, options.registryPath ? `${registry}/${options.registryPath}` : registry, options.approvers ?? [], options.environments));
  return ws;
}

function environmentsConfig(environments: NonNullable<WorkspaceOptions['environments']>): string {
  const entries = DEMO_ENVIRONMENTS.map(
    (environment) => `      - name: ${environment.name}
        promotion: ${environment.promotion}
        argocd: { application: ${environment.application} }
        values: ${environment.values}
        verify:
          for: ${environments.verifyFor}
          checks:
            - name: error-ratio
              query: '${DEMO_ERROR_RATIO_QUERY}'
              max: 0.05`,
  );
  return `    deploy:
      argocd: { url: ${environments.argocdUrl}, application: ${DEMO_ENVIRONMENTS[0].application}, timeoutSeconds: 60, pollSeconds: 0.2 }
    environments:
${entries.join('\n')}
`;
}

function demoConfig(ws: Workspace, registry: string, approvers: string[], environments?: WorkspaceOptions['environments']): string {
  return `# Written by baton demo. Same keys as production; only the URLs are local.
pipelines:
  - name: boutique
    repository: ${DEMO_REPOSITORY}
    branches: ["main"]
    services:
${DEMO_SERVICES.map((service) => `      - name: ${service}\n        path: src/${service}/`).join('\n')}
    source:
      url: file://${ws.source}
    mirror:
      url: file://${ws.mirror}
      auth: none
    build:
      imageRepository: ${registry}/boutique
    approval:
      approvers: ${JSON.stringify([DEMO_APPROVER.id, ...approvers])}
      ttlSeconds: 3600
    chart:
      repo: file://${ws.charts}
      branch: main
      path: charts/online-boutique
      registry: oci://${registry}/charts
      auth: none
${environments ? environmentsConfig(environments) : ''}`;
}

/** Changes one service in the developer's clone, commits and pushes; returns before/after. */
export async function pushChange(ws: Workspace, service: string, round: number): Promise<{ before: string; after: string }> {
  const before = await git(ws.clone, 'rev-parse', 'HEAD');
  writeFileSync(join(ws.clone, 'src', service, 'version.txt'), `${service} ${round}\n`);
  await git(ws.clone, 'commit', '--quiet', '-am', `${service}: release ${round}`);
  await git(ws.clone, 'push', '--quiet', 'origin', 'main');
  return { before, after: await git(ws.clone, 'rev-parse', 'HEAD') };
}

/** The chart commit's diff, for people. */
export async function chartCommitDiff(ws: Workspace, commit: string): Promise<string> {
  return git(ws.charts, 'show', '--stat', '--patch', '--format=commit %H%nAuthor: %an <%ae>%n%n    %s%n', commit);
}
