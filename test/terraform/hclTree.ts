/**
 * Loads every .tf file under terraform/ with @cdktf/hcl2json (no providers, no
 * network) into one plain-JSON tree per directory, for the cross-checks in
 * checks.ts. Expressions stay strings of the form "${...}".
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'parseWorker.js');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Body = { [key: string]: Json };

export type TfDir = {
  /** Directory relative to the tree root, with forward slashes (e.g. "modules/pubsub"). */
  dir: string;
  /** Parsed content of each .tf file, by file name. */
  files: Record<string, Body>;
  variables: Record<string, Body>;
  outputs: Record<string, Body>;
  locals: Record<string, Json>;
  modules: Record<string, Body>;
  /** resources[type][name] */
  resources: Record<string, Record<string, Body>>;
  data: Record<string, Record<string, Body>>;
  /** The terraform {} blocks. */
  terraform: Body[];
};

export type TfTree = { root: string; dirs: Record<string, TfDir> };

function isBody(value: Json | undefined): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** hcl2json wraps every block body in a one-element list. */
function first(value: Json | undefined): Body {
  if (Array.isArray(value) && isBody(value[0])) return value[0];
  if (isBody(value)) return value;
  return {};
}

async function listTfFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue; // .terraform caches
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith('.tf')) out.push(full);
    }
  }
  await walk(root);
  return out.sort();
}

/** Parses several HCL files at once (in a child process, see parseWorker.ts). */
export async function parseMany(files: Array<{ name: string; text: string }>): Promise<Body[]> {
  const out = execFileSync(process.execPath, [WORKER], { input: JSON.stringify(files), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  const results = JSON.parse(out) as Array<{ name: string; body?: Body; error?: string }>;
  return results.map((r) => {
    if (r.error !== undefined || !r.body) throw new Error(`failed to parse ${r.name}: ${r.error ?? 'no result'}`);
    return r.body;
  });
}

export async function parseTf(fileName: string, text: string): Promise<Body> {
  const [body] = await parseMany([{ name: fileName, text }]);
  return body!;
}

export function emptyDir(dir: string): TfDir {
  return { dir, files: {}, variables: {}, outputs: {}, locals: {}, modules: {}, resources: {}, data: {}, terraform: [] };
}

/** Folds one parsed file into its directory's view. */
export function addFile(d: TfDir, fileName: string, body: Body): void {
  d.files[fileName] = body;
  for (const [name, v] of Object.entries(isBody(body.variable) ? body.variable : {})) d.variables[name] = first(v);
  for (const [name, v] of Object.entries(isBody(body.output) ? body.output : {})) d.outputs[name] = first(v);
  for (const [name, v] of Object.entries(isBody(body.module) ? body.module : {})) d.modules[name] = first(v);
  for (const block of Array.isArray(body.locals) ? body.locals : []) {
    if (isBody(block)) Object.assign(d.locals, block);
  }
  for (const [kind, target] of [
    ['resource', d.resources],
    ['data', d.data],
  ] as const) {
    const byType = body[kind];
    if (!isBody(byType)) continue;
    for (const [type, byName] of Object.entries(byType)) {
      if (!isBody(byName)) continue;
      target[type] ??= {};
      for (const [name, v] of Object.entries(byName)) target[type][name] = first(v);
    }
  }
  for (const block of Array.isArray(body.terraform) ? body.terraform : []) {
    if (isBody(block)) d.terraform.push(block);
  }
}

export async function loadTree(root: string): Promise<TfTree> {
  const dirs: Record<string, TfDir> = {};
  const files = await listTfFiles(root);
  const bodies = await parseMany(await Promise.all(files.map(async (name) => ({ name, text: await fs.readFile(name, 'utf8') }))));
  files.forEach((file, i) => {
    const rel = path.relative(root, path.dirname(file)).split(path.sep).join('/');
    const d = (dirs[rel] ??= emptyDir(rel));
    addFile(d, path.basename(file), bodies[i]!);
  });
  return { root, dirs };
}

/** Every string in a JSON value, object keys included. */
export function strings(value: Json | undefined, skipKeys: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  const walk = (v: Json | undefined): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isBody(v)) {
      for (const [k, child] of Object.entries(v)) {
        if (skipKeys.has(k)) continue;
        out.push(k);
        walk(child);
      }
    }
  };
  walk(value);
  return out;
}

export { isBody, first };
