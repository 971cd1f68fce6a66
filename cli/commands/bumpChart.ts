import { resolve } from 'node:path';
import type { Command } from 'commander';
import { bumpChartDirectory } from '../../domain/chart/chartDir.js';
import type { ImageUpdate } from '../../domain/chart/imageUpdate.js';
import { parseImageFlag } from '../../domain/chart/imageUpdate.js';
import { DEFAULT_IMAGE_PATH } from '../../domain/chart/valuesPath.js';

/**
 * `baton bump-chart <chartDir> --image <service>=<tag>@sha256:<digest> …`: the chart edit
 * chartBump makes, applied to a chart directory in place (values and Chart.yaml), for operators
 * and Jenkins. Every flag is checked and every edit worked out before a file is written, so an
 * unknown service or a malformed digest leaves the chart exactly as it was.
 */
export function register(program: Command): void {
  program
    .command('bump-chart <chartDir>')
    .description("set services' image tag and digest in a chart's values, patch-bump Chart.yaml's version and set appVersion")
    .requiredOption('--image <service=tag@sha256:digest>', 'a service\'s new image (repeatable); `service=repository:tag@sha256:…` also sets the repository', collect)
    .option('--values-file <file>', 'values file inside the chart directory', 'values.yaml')
    .option('--image-path <path>', 'dotted path of a service\'s image block; {service} is replaced', DEFAULT_IMAGE_PATH)
    .option('--app-version <version>', "Chart.yaml appVersion (default: the images' common tag)")
    .option('--json', 'print the result as JSON')
    .action(async (chartDir: string, options: { image: string[]; valuesFile: string; imagePath: string; appVersion?: string; json?: boolean }) => {
      const images: ImageUpdate[] = options.image.map(parseImageFlag);
      const result = await bumpChartDirectory(resolve(chartDir), images, {
        valuesFile: options.valuesFile,
        imagePath: options.imagePath,
        ...(options.appVersion ? { appVersion: options.appVersion } : {}),
      });
      const summary = { chart: result.chart, changed: result.changed, version: result.version, previousVersion: result.previousVersion, services: images.map((image) => image.service) };
      if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else if (result.changed) process.stdout.write(`${result.chart} ${result.previousVersion} -> ${result.version}: ${summary.services.join(', ')}\n`);
      else process.stdout.write(`${result.chart} ${result.version}: already up to date, nothing changed\n`);
    });
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
