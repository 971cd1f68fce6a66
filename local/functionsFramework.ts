import { spawn } from 'node:child_process';
import { freePort } from './registry.js';

/**
 * One target served the deployed way, as a separate process: `functions-framework
 * --target=<name>` from the repository root (after `npm run build`), with the environment it is
 * given. Resolves once it answers HTTP.
 */
export async function startFunctionsFramework(target: string, env: NodeJS.ProcessEnv): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['node_modules/@google-cloud/functions-framework/build/src/main.js', `--target=${target}`, `--port=${port}`], {
    cwd: process.cwd(),
    env,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(url, { method: 'GET' });
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`functions-framework --target=${target} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
