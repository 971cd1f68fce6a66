import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ChartEditOptions, ChartEditResult, ChartTexts } from './chartEdit.js';
import { applyImagesToChart } from './chartEdit.js';
import type { ImageUpdate } from './imageUpdate.js';

/** The two files a bump edits, read from and written to a chart directory. */
export async function readChartTexts(chartDir: string, valuesFile = 'values.yaml'): Promise<ChartTexts> {
  const [chartYaml, values] = await Promise.all([
    readFile(join(chartDir, 'Chart.yaml'), 'utf8').catch((error: Error) => {
      throw new Error(`failed to read ${join(chartDir, 'Chart.yaml')}: ${error.message}`);
    }),
    readFile(join(chartDir, valuesFile), 'utf8').catch((error: Error) => {
      throw new Error(`failed to read ${join(chartDir, valuesFile)}: ${error.message}`);
    }),
  ]);
  return { chartYaml, values };
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
async function replaceFile(path: string, text: string): Promise<void> {
  const temporary = `${path}.baton-${process.pid}-${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

export async function writeChartTexts(chartDir: string, texts: ChartTexts, valuesFile = 'values.yaml'): Promise<void> {
  await Promise.all([replaceFile(join(chartDir, valuesFile), texts.values), replaceFile(join(chartDir, 'Chart.yaml'), texts.chartYaml)]);
}

/**
 * Bumps a chart directory in place. Every edit is worked out (and validated) before either file
 * is written, so an unknown service or a malformed digest leaves the chart untouched.
 */
export async function bumpChartDirectory(chartDir: string, images: readonly ImageUpdate[], options: ChartEditOptions = {}): Promise<ChartEditResult> {
  const valuesFile = options.valuesFile ?? 'values.yaml';
  const result = applyImagesToChart(await readChartTexts(chartDir, valuesFile), images, { ...options, valuesFile });
  if (result.changed) await writeChartTexts(chartDir, result.texts, valuesFile);
  return result;
}
