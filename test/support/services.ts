import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The real local services the tests use: the Pub/Sub and Firestore emulators and the OCI
 * registry. `.ci/run` starts them; when it has not (a developer's plain `npm test`), the global
 * setup starts them and the teardown stops what it started.
 */
const root = process.cwd();
const stateDir = join(process.env.TMPDIR ?? '/tmp', `baton-test-services-${process.pid}`);

function run(script: string, args: string[]): string {
  return execFileSync('bash', [join(root, 'scripts', script), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function exportedVars(output: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const match of output.matchAll(/([A-Z_]+)=(\S+)/g)) vars[match[1]!] = match[2]!;
  return vars;
}

export function startServices(): string[] {
  const started: string[] = [];
  if (!process.env.PUBSUB_EMULATOR_HOST || !process.env.FIRESTORE_EMULATOR_HOST) {
    Object.assign(process.env, exportedVars(run('emulators.sh', ['start', join(stateDir, 'emulators')])));
    started.push('emulators');
  }
  if (!process.env.BATON_REGISTRY) {
    Object.assign(process.env, exportedVars(run('registry.sh', ['start', join(stateDir, 'registry')])));
    started.push('registry');
  }
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  process.env.GOOGLE_CLOUD_PROJECT ??= 'baton-test';
  return started;
}

export function stopServices(started: string[]): void {
  if (started.includes('emulators')) run('emulators.sh', ['stop', join(stateDir, 'emulators')]);
  if (started.includes('registry')) run('registry.sh', ['stop', join(stateDir, 'registry')]);
}
