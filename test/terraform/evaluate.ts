/**
 * Evaluates the simple Terraform expressions that hcl2json leaves as "${...}" strings: references
 * to var.X, local.X and a resource's literal argument (<type>.<name>.<arg>), inside plain values,
 * lists, objects and string templates. Enough to compute what a module hands to helm_release for
 * an environment (test/charts/oneGateway.test.ts), and nothing more: any other expression throws,
 * so a change that this cannot follow fails loudly instead of being guessed.
 */
import { type Json, type TfDir, type TfTree, isBody } from './hclTree.js';
import { resolveModuleSource } from './checks.js';

/** A module directory and the values of its variables (thunks: a module input is evaluated only when used). */
export type Context = { dir: TfDir; vars: Record<string, Json | (() => Json)> };

const REF = /^(var|local)\.([A-Za-z_][\w-]*)$|^([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)$/;

function reference(expr: string, ctx: Context, depth: number): Json {
  const m = REF.exec(expr.trim());
  if (!m) throw new Error(`${ctx.dir.dir}: cannot evaluate \${${expr}}`);
  if (m[1] === 'var') {
    const name = m[2]!;
    if (name in ctx.vars) {
      const v = ctx.vars[name]!;
      return typeof v === 'function' ? v() : v;
    }
    const spec = ctx.dir.variables[name];
    if (spec && 'default' in spec) return evaluate(spec.default ?? null, ctx, depth + 1);
    throw new Error(`${ctx.dir.dir}: var.${name} has no value and no default`);
  }
  if (m[1] === 'local') {
    const name = m[2]!;
    if (!(name in ctx.dir.locals)) throw new Error(`${ctx.dir.dir}: local.${name} is not defined`);
    return evaluate(ctx.dir.locals[name]!, ctx, depth + 1);
  }
  const body = ctx.dir.resources[m[3]!]?.[m[4]!];
  if (!body || !(m[5]! in body)) throw new Error(`${ctx.dir.dir}: cannot evaluate ${expr} (not a literal argument of a resource here)`);
  return evaluate(body[m[5]!]!, ctx, depth + 1);
}

/** The value of an hcl2json value in a module context. */
export function evaluate(value: Json, ctx: Context, depth = 0): Json {
  if (depth > 50) throw new Error(`${ctx.dir.dir}: expression nesting too deep`);
  if (typeof value === 'string') {
    const whole = /^\$\{([^{}]*)\}$/.exec(value);
    if (whole) return reference(whole[1]!, ctx, depth);
    return value.replace(/\$\{([^{}]*)\}/g, (_all, expr: string) => {
      const v = reference(expr, ctx, depth);
      if (typeof v === 'object' && v !== null) throw new Error(`${ctx.dir.dir}: \${${expr}} is not a string inside "${value}"`);
      return String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => evaluate(v, ctx, depth + 1));
  if (isBody(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, ctx, depth + 1)]));
  return value;
}

/** The context of module `name` as root `rootDir` calls it, the root's variables set from `rootVars` (a tfvars file) over their defaults. */
export function moduleContext(tree: TfTree, rootDir: string, name: string, rootVars: Record<string, Json>): Context {
  const root = tree.dirs[rootDir];
  if (!root) throw new Error(`no directory ${rootDir}`);
  const call = root.modules[name];
  if (!call || typeof call.source !== 'string') throw new Error(`${rootDir}: no module ${name}`);
  const dir = tree.dirs[resolveModuleSource(rootDir, call.source)];
  if (!dir) throw new Error(`${rootDir}: module ${name} has no source directory`);
  const rootCtx: Context = { dir: root, vars: rootVars };
  const vars: Record<string, () => Json> = {};
  for (const [k, v] of Object.entries(call)) if (k in dir.variables) vars[k] = () => evaluate(v, rootCtx);
  return { dir, vars };
}
