import type { TopicTarget } from '../../shared/adapters/topic.js';
import { OciRegistry, isLoopbackHost } from '../../shared/oci/registryClient.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { handleBuildNotification } from './status.js';
import type { BuildStatusDeps, RegistryLookup } from './status.js';

/** Topic target `buildStatus` (on `cloud-builds`, Cloud Build's own format). */
export const target: TopicTarget<'cloud-builds'> = {
  topic: 'cloud-builds',
  async handle(build, context, runtime) {
    const deps = runtime.service<BuildStatusDeps>('buildStatus', () => ({
      ledger: runtime.ledger(),
      bus: runtime.bus(),
      log: runtime.log,
      registryFor: registryFactory(runtime),
    }));
    await handleBuildNotification(build, context, deps);
  },
};

/**
 * One registry client per host. Artifact Registry (`*-docker.pkg.dev`) speaks the same OCI API
 * as the local registry; it takes user `oauth2accesstoken` with the service account's token.
 */
function registryFactory(runtime: Runtime): (host: string) => RegistryLookup {
  const registries = new Map<string, OciRegistry>();
  return (host) => {
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
}
