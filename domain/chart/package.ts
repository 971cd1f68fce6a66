import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';
import type { ChartMetadata } from './chartYaml.js';
import { readChartMetadata } from './chartYaml.js';
import { HelmIgnore } from './helmignore.js';

/**
 * Packages a chart directory the way `helm package` does (a gzip tar whose entries sit under
 * `<chart name>/`, `Chart.yaml` first), but reproducibly: the same files always give the same
 * bytes, so the same chart gets the same OCI digest. Everything that would vary is fixed:
 * entries sorted, no directory entries, mtime 0, uid/gid 0 and no owner names, mode 0644
 * (what Helm writes), and a gzip header with no timestamp and OS "unknown".
 *
 * Unlike Helm, which re-serialises Chart.yaml from its parsed metadata, the original bytes are
 * kept, comments included.
 */
export type PackagedChart = {
  name: string;
  version: string;
  metadata: ChartMetadata;
  /** The `.tgz` bytes. */
  bytes: Buffer;
  /** Entry paths in archive order. */
  entries: string[];
};

const FIXED_MTIME = new Date(0);
const FILE_MODE = 0o644;
const BLOCK = 512;

async function listChartFiles(chartDir: string, ignore: HelmIgnore, relative = ''): Promise<string[]> {
  const entries = await readdir(join(chartDir, relative), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    // Helm follows symlinks: stat, not lstat.
    const info = entry.isSymbolicLink() ? await stat(join(chartDir, path)) : entry;
    const isDirectory = info.isDirectory();
    if (ignore.ignores(path, isDirectory)) continue;
    if (isDirectory) files.push(...(await listChartFiles(chartDir, ignore, path)));
    else if (info.isFile()) files.push(path);
  }
  return files;
}

function tarEntry(path: string, data: Buffer): Buffer[] {
  const fields = { path, mode: FILE_MODE, uid: 0, gid: 0, size: data.length, mtime: FIXED_MTIME, uname: '', gname: '', type: 'File' as const };
  const header = new Header(fields);
  header.encode();
  const blocks: Buffer[] = [];
  // Paths too long for ustar's name/prefix fields get a PAX header, as Go's archive/tar does.
  if (header.needPax) blocks.push(new Pax({ path, mtime: FIXED_MTIME, size: data.length, mode: FILE_MODE, uid: 0, gid: 0 }).encode());
  blocks.push(header.block!, data);
  const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
  if (padding) blocks.push(Buffer.alloc(padding));
  return blocks;
}

/** Files of the chart (after `.helmignore`), Chart.yaml first, the rest sorted by path. */
export async function chartFiles(chartDir: string): Promise<string[]> {
  const ignoreText = await readFile(join(chartDir, '.helmignore'), 'utf8').catch(() => '');
  const files = await listChartFiles(chartDir, new HelmIgnore(ignoreText));
  if (!files.includes('Chart.yaml')) throw new Error(`failed to package ${chartDir}: no Chart.yaml`);
  return ['Chart.yaml', ...files.filter((file) => file !== 'Chart.yaml').sort()];
}

export async function packageChart(chartDir: string): Promise<PackagedChart> {
  const files = await chartFiles(chartDir);
  const contents = await Promise.all(files.map((file) => readFile(join(chartDir, file))));
  const metadata = readChartMetadata(contents[0]!.toString('utf8'), join(chartDir, 'Chart.yaml'));
  const entries = files.map((file) => `${metadata.name}/${file}`);
  const tar = Buffer.concat([...entries.flatMap((entry, index) => tarEntry(entry, contents[index]!)), Buffer.alloc(BLOCK * 2)]);
  const bytes = gzipSync(tar, { level: 9 });
  // Byte 9 of the gzip header is the OS that wrote it; zlib fills in the build platform's.
  // 255 ("unknown", as Go's compress/gzip writes) makes the bytes the same everywhere.
  bytes[9] = 255;
  return { name: metadata.name, version: metadata.version, metadata, bytes, entries };
}
