import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Every function's cold start loads the package `main`, so `main` (the stage list and the
 * manifest) must stay light: handlers, SDKs and zod load with the first request. A module hook
 * lists what loading `main` pulls in, in a process of its own.
 */
function modulesLoadedByMain(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cold-'));
  writeFileSync(join(dir, 'hooks.mjs'), "export async function load(url, context, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }\n");
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  const child = spawnSync(process.execPath, ['--no-warnings', '--import', join(dir, 'register.mjs'), '--input-type=module', '-e', "await import('./dist/functions/index.js')"], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`loading main failed: ${child.stderr}`);
  return child.stderr.split('\n').flatMap((line) => (line.startsWith('LOADED ') ? [line.slice('LOADED '.length)] : []));
}

test('loading main pulls in no zod, no Google SDK and no handler: only the stage declarations', () => {
  const loaded = modulesLoadedByMain();
  // The hook itself works: main and the stage list are there.
  expect(loaded.some((url) => url.endsWith('/dist/functions/stages.js'))).toBe(true);
  const packages = [...new Set(loaded.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []))];
  expect(packages).toEqual(['@google-cloud/functions-framework']);
  expect(loaded.filter((url) => /\/dist\/functions\/[^/]+\/(?!stage\.js$)[^/]+$/.test(url))).toEqual([]);
}, 30_000);
