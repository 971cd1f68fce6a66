/** Entry point of a detached local build: `node localBuildJobMain.js <buildDir>` (see localBuildJob.ts). */
import { failJob, runJob } from './localBuildJob.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: localBuildJobMain.js <buildDir>\n');
  process.exit(2);
}
runJob(dir).catch(async (error: unknown) => {
  await failJob(dir, error);
  process.exitCode = 1;
});
