import type { Octokit } from '@octokit/rest';
import { createGitHubClient, hostError, splitRepository } from './githubClient.js';
import type { GitHubClientOptions } from './githubClient.js';
import type { DeploymentState, DesiredStatus, GitHost, HostDeployment } from './types.js';

/**
 * GitHub as a `GitHost`: commit statuses (`POST /repos/{owner}/{repo}/statuses/{sha}`) and
 * deployments (`POST …/deployments`, `POST …/deployments/{id}/statuses`). One API call per
 * method; the client is created on the first call and reused.
 *
 * Deployments are created with `auto_merge: false` (GitHub would otherwise try to merge the
 * default branch into the pushed commit and answer 409 or a merge) and `required_contexts: []`
 * (GitHub would otherwise refuse while baton's own `baton/*` statuses are still pending).
 */
export function githubHost(options: GitHubClientOptions): GitHost {
  let client: Promise<Octokit> | undefined;
  const octokit = () => (client ??= createGitHubClient(options));

  return {
    provider: 'github',
    async setStatus(repository: string, sha: string, status: DesiredStatus): Promise<void> {
      const { owner, repo } = splitRepository(repository);
      try {
        await (await octokit()).rest.repos.createCommitStatus({
          owner,
          repo,
          sha,
          state: status.state,
          context: status.context,
          description: status.description,
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        });
      } catch (error) {
        throw hostError(`set commit status ${status.context}=${status.state} on ${repository}@${sha.slice(0, 12)}`, error);
      }
    },
    deployments: {
      async create(repository, sha, environment, details): Promise<HostDeployment> {
        const { owner, repo } = splitRepository(repository);
        let response;
        try {
          response = await (await octokit()).rest.repos.createDeployment({
            owner,
            repo,
            ref: sha,
            environment,
            task: 'deploy',
            auto_merge: false,
            required_contexts: [],
            description: details.description,
            payload: { runId: details.runId, pipeline: details.pipeline },
          });
        } catch (error) {
          throw hostError(`create the ${environment} deployment of ${repository}@${sha.slice(0, 12)}`, error);
        }
        const data = response.data as { id?: number; message?: string };
        if (typeof data.id !== 'number') throw hostError(`create the ${environment} deployment of ${repository}`, { status: 409, message: data.message ?? 'no deployment created' });
        return { id: data.id };
      },
      async setState(repository: string, deploymentId: number, state: DeploymentState, details): Promise<void> {
        const { owner, repo } = splitRepository(repository);
        try {
          await (await octokit()).rest.repos.createDeploymentStatus({
            owner,
            repo,
            deployment_id: deploymentId,
            state,
            description: details.description,
            ...(details.logUrl ? { log_url: details.logUrl } : {}),
          });
        } catch (error) {
          throw hostError(`set deployment ${deploymentId} (${details.environment}) to ${state} on ${repository}`, error);
        }
      },
    },
  };
}
