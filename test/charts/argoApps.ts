// The Argo CD Applications Terraform installs for the poc, computed without Terraform:
// envs/poc's var.environments (evaluated from the .tf files and the example tfvars), each made
// into an Application from charts/argocd/application.yaml the way modules/cicd's
// local.applications does. test/terraform (checkApplications) holds that local to this shape,
// so the two cannot drift apart silently.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { loadTree, parseTf, type Json } from '../terraform/hclTree.js';
import { evaluate, moduleContext } from '../terraform/evaluate.js';
import type { TfEnvironment } from '../terraform/checks.js';
import { parseManifests, repoRoot, type Manifest } from './helmRender.js';

export type { TfEnvironment };

export const argoDir = path.join(repoRoot, 'charts', 'argocd');
const tfRoot = path.join(repoRoot, 'terraform');

/** envs/poc's environments, as module "cicd" receives them with the example tfvars. */
export async function pocEnvironments(): Promise<TfEnvironment[]> {
  const tree = await loadTree(tfRoot);
  const tfvars = (await parseTf('terraform.tfvars', readFileSync(path.join(tfRoot, 'envs/poc/terraform.tfvars.example'), 'utf8'))) as Record<string, Json>;
  return evaluate('${var.environments}', moduleContext(tree, 'envs/poc', 'cicd', tfvars)) as unknown as TfEnvironment[];
}

/** charts/argocd/application.yaml: the spec every environment's Application shares. */
export function sharedApplication(): Manifest {
  return parseManifests(readFileSync(path.join(argoDir, 'application.yaml'), 'utf8'))[0]!;
}

/** The Application of one environment, as modules/cicd makes it. */
export function applicationFor(environment: TfEnvironment, base: Manifest = sharedApplication()): Manifest {
  const spec = structuredClone(base.spec);
  return {
    apiVersion: base.apiVersion,
    kind: base.kind,
    metadata: {
      name: environment.application,
      namespace: base.metadata.namespace,
      labels: { ...base.metadata.labels, 'baton/environment': environment.name },
      finalizers: (base.metadata as { finalizers?: string[] }).finalizers,
    },
    spec: {
      ...spec,
      source: { ...spec.source, helm: { ...spec.source.helm, valueFiles: [environment.values_file] } },
      destination: { ...spec.destination, namespace: environment.namespace },
    },
  } as Manifest;
}
