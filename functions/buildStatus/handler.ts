import { OciRegistry, isLoopbackHost } from '../../shared/oci/registryClient.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { handleBuildNotification } from './status.js';
import type { RegistryLookup } from './status.js';

/** buildStatus's handler: the ledger and one registry client per image host, once. */
export function buildStatusHandler(runtime: StageRuntime<'build-finished'>): TopicHandler<'cloud-builds', 'build-finished'> {
  const registries = new Map<string, OciRegistry>();
  // Artifact Registry (`*-docker.pkg.dev`) speaks the same OCI API as the local registry; it takes
  // user `oauth2accesstoken` with the service account's token.
  const registryFor = (host: string): RegistryLookup => {
    let registry = registries.get(host);
    if (!registry) {
      registry = isLoopbackHost(host)
        ? new OciRegistry(host)
        : new OciRegistry(host, {
            credentials: async () => {
              const token = await runtime.accessToken();
              return token ? { username: 'oauth2accesstoken', password: token } : undefined;
            },
          });
      registries.set(host, registry);
    }
    return registry;
  };
  return ({ event }, context) => handleBuildNotification(event, context, { ledger: runtime.ledger(), log: runtime.log, registryFor });
}
