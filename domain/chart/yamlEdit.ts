import { isDeepStrictEqual } from 'node:util';
import { CST, Composer, Parser, isAlias, isMap, isScalar, isSeq, parse, visit } from 'yaml';
import type { Document, Node as YamlNode, Pair, Scalar, YAMLMap } from 'yaml';
import type { PathSegment } from './valuesPath.js';
import { formatValuesPath } from './valuesPath.js';

/**
 * Surgical edits of YAML text: the `yaml` Document API finds the nodes, and only the source
 * tokens of the scalars that change are rewritten (`CST.setScalarValue`), so every other byte
 * (comments, key order, quoting, flow style, blank lines, anchors, indentation) stays as it was.
 * Re-serialising the whole document would reflow long lines and re-indent sequences, which
 * turns a one-line bump into a noisy diff.
 *
 * Every rewritten token is read back and must hold exactly the intended value. When the file
 * uses anchors or aliases, or a key had to be added, the whole result is also parsed again and
 * compared with the original plus the intended changes; any other difference (an edited scalar
 * that an alias elsewhere shares, say) aborts the edit instead of silently changing another
 * service. (Files without anchors skip that second full parse: it is most of a bump's cost.)
 */
export type ScalarEdit = {
  /** Path of the key to set; its parent must be a mapping. A missing key is added to it. */
  path: PathSegment[];
  /** The new string value. */
  value: string;
};

export class YamlEditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlEditError';
  }
}

type TokenLike = Parameters<typeof CST.stringify>[0];
type ScalarToken = Parameters<typeof CST.setScalarValue>[0];
type CollectionToken = { type: string; indent: number; items: Array<Record<string, unknown>>; end?: unknown[] };

function composeSingleDocument(text: string, label: string): { tokens: TokenLike[]; doc: Document.Parsed } {
  const tokens = Array.from(new Parser().parse(text));
  const docs = Array.from(new Composer({ keepSourceTokens: true, merge: true }).compose(tokens));
  if (docs.length !== 1) throw new YamlEditError(`${label} must hold exactly one YAML document, found ${docs.length}`);
  const doc = docs[0]!;
  if (doc.errors.length) throw new YamlEditError(`${label} is not valid YAML: ${doc.errors[0]!.message}`);
  return { tokens, doc };
}

function describe(node: unknown): string {
  if (isAlias(node)) return `an alias (*${node.source})`;
  if (isSeq(node)) return 'a sequence';
  if (isScalar(node)) return 'a scalar';
  if (node === null || node === undefined) return 'empty';
  return 'not a mapping';
}

function findPair(map: YAMLMap, key: string): Pair<unknown, unknown> | undefined {
  return map.items.find((pair) => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key)) === key) as Pair<unknown, unknown> | undefined;
}

/** Walks to the mapping that holds the edited key, with Image Updater-style errors. */
function resolveParent(doc: Document.Parsed, path: readonly PathSegment[], label: string): YAMLMap {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const here = formatValuesPath(path.slice(0, i)) || '(root)';
    if (isAlias(node)) {
      throw new YamlEditError(`${label}: ${here} is an alias (*${node.source}); give it its own block so that editing it cannot change what else shares the anchor`);
    }
    if (typeof segment === 'number') {
      if (!isSeq(node)) throw new YamlEditError(`${label}: key "${formatValuesPath(path.slice(i - 1, i)) || here}" is not a sequence`);
      if (segment >= node.items.length) throw new YamlEditError(`${label}: index ${segment} is out of range at ${here} (${node.items.length} items)`);
      node = node.items[segment];
      continue;
    }
    if (!isMap(node)) {
      const key = i === 0 ? '(root)' : String(path[i - 1]);
      throw new YamlEditError(`${label}: key "${key}" is not a mapping (it is ${describe(node)})`);
    }
    if (i === path.length - 1) return node;
    const pair = findPair(node, segment);
    if (!pair) throw new YamlEditError(`${label}: key "${segment}" not found at ${here}`);
    node = pair.value;
  }
  throw new YamlEditError(`${label}: empty path`);
}

/** The scalar style that keeps `value` a string: the current one, unless plain would change its type. */
function styleFor(current: Scalar.Type | undefined, value: string, inFlow: boolean): Scalar.Type {
  if (current && current !== 'PLAIN' && current !== 'BLOCK_FOLDED' && current !== 'BLOCK_LITERAL') return current;
  const plainIsString = (() => {
    try {
      return parse(`k: ${value}`)?.k === value && (!inFlow || isDeepStrictEqual(parse(`[${value}]`), [value]));
    } catch {
      return false;
    }
  })();
  return plainIsString && !/^\s|\s$|#/.test(value) ? 'PLAIN' : 'QUOTE_DOUBLE';
}

function sourceToken(type: string, source: string, indent: number): Record<string, unknown> {
  return { type, offset: 0, indent, source };
}

/** Appends `key: value` to a block or flow mapping's tokens, copying its indentation. */
function insertKey(map: YAMLMap, key: string, value: string, label: string): void {
  const token = (map as unknown as { srcToken?: CollectionToken }).srcToken;
  if (!token || (token.type !== 'block-map' && token.type !== 'flow-collection')) {
    throw new YamlEditError(`${label}: cannot add key "${key}" to this mapping`);
  }
  const inFlow = token.type === 'flow-collection';
  const indent = token.indent;
  const type = styleFor(undefined, value, inFlow);
  const separator = [sourceToken('map-value-ind', ':', indent), sourceToken('space', ' ', indent)];
  const keyToken = sourceToken('scalar', key, indent);
  if (inFlow) {
    const start = token.items.length ? [sourceToken('comma', ',', indent), sourceToken('space', ' ', indent)] : [];
    token.items.push({ start, key: keyToken, sep: separator, value: CST.createScalarToken(value, { indent, inFlow: true, type, end: [] }) });
    return;
  }
  const last = token.items[token.items.length - 1];
  const lastText = last ? CST.stringify(last as unknown as TokenLike) : '\n';
  const start = [...(lastText.endsWith('\n') ? [] : [sourceToken('newline', '\n', indent)]), sourceToken('space', ' '.repeat(indent), 0)];
  token.items.push({ start, key: keyToken, sep: separator, value: CST.createScalarToken(value, { indent, type }) });
}

function usesAnchors(doc: Document.Parsed): boolean {
  let found = false;
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node) || (node as { anchor?: string }).anchor) {
        found = true;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function setPlain(target: unknown, path: readonly PathSegment[], value: string): void {
  let node = target as Record<string | number, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
}

/** Paths whose values differ between two plain JS values (at most `limit`). */
function differences(a: unknown, b: unknown, path: PathSegment[] = [], out: string[] = [], limit = 5): string[] {
  if (out.length >= limit || isDeepStrictEqual(a, b)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const segment = Array.isArray(a) ? Number(key) : key;
      differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], [...path, segment], out, limit);
    }
    return out;
  }
  out.push(formatValuesPath(path) || '(root)');
  return out;
}

/**
 * One YAML file, composed once: ask whether a path exists, then apply edits. `edit` returns the
 * new text and whether anything changed; an edit whose value is already there changes nothing,
 * so applying the same edits twice is a no-op.
 */
export class YamlFile {
  private readonly tokens: TokenLike[];
  readonly doc: Document.Parsed;

  constructor(
    readonly text: string,
    readonly label: string,
  ) {
    ({ tokens: this.tokens, doc: this.doc } = composeSingleDocument(text, label));
  }

  has(path: readonly PathSegment[]): boolean {
    return this.doc.getIn(path, true) !== undefined;
  }

  /** Applies `edits` once; the file is spent afterwards (its tokens carry the edits). */
  edit(edits: readonly ScalarEdit[]): { text: string; changed: boolean } {
    const { doc, label } = this;
    let changed = false;
    let inserted = false;
    const rewritten: Array<{ token: ScalarToken; value: string }> = [];
    for (const edit of edits) {
      const parent = resolveParent(doc, edit.path, label);
      const key = edit.path[edit.path.length - 1];
      if (typeof key !== 'string') throw new YamlEditError(`${label}: ${formatValuesPath(edit.path)} must end in a key`);
      const pair = findPair(parent, key);
      if (!pair) {
        insertKey(parent, key, edit.value, label);
        changed = inserted = true;
        continue;
      }
      const node = pair.value as YamlNode | null;
      const inFlow = (parent as unknown as { srcToken?: { type: string } }).srcToken?.type === 'flow-collection';
      if (isScalar(node) && !node.srcToken) {
        // `key:` with no value: there is no scalar token to rewrite.
        throw new YamlEditError(`${label}: key "${key}" at ${formatValuesPath(edit.path.slice(0, -1))} has no value; write "" there so baton can fill it in`);
      } else if (isScalar(node)) {
        if (node.value === edit.value) continue;
        CST.setScalarValue(node.srcToken as ScalarToken, edit.value, { inFlow, type: styleFor(node.type, edit.value, inFlow) });
        rewritten.push({ token: node.srcToken as ScalarToken, value: edit.value });
      } else if (isAlias(node)) {
        // Replacing the alias with a value leaves the anchored node (and its other users) alone.
        if (node.resolve(doc)?.toJSON?.() === edit.value) continue;
        CST.setScalarValue(node.srcToken as ScalarToken, edit.value, { inFlow, type: styleFor(undefined, edit.value, inFlow) });
        rewritten.push({ token: node.srcToken as ScalarToken, value: edit.value });
      } else {
        throw new YamlEditError(`${label}: key "${key}" at ${formatValuesPath(edit.path.slice(0, -1))} is ${describe(node)}, expected a scalar`);
      }
      changed = true;
    }
    if (!changed) return { text: this.text, changed };
    for (const { token, value } of rewritten) {
      const written = CST.resolveAsScalar(token);
      if (written?.value !== value) throw new YamlEditError(`${label}: failed to write "${value}": it would read back as "${written?.value}"`);
    }
    const next = this.tokens.map((token) => CST.stringify(token)).join('');
    // The composed nodes still hold the original values (only the source tokens were edited).
    if (inserted || usesAnchors(doc)) verifyOnlyIntendedChanges(doc.toJS() as unknown, next, edits, label);
    return { text: next, changed };
  }
}

/** Applies `edits` to YAML `text` (see `YamlFile.edit`). */
export function editYamlScalars(text: string, edits: readonly ScalarEdit[], label: string): { text: string; changed: boolean } {
  return new YamlFile(text, label).edit(edits);
}

function verifyOnlyIntendedChanges(expected: unknown, after: string, edits: readonly ScalarEdit[], label: string): void {
  for (const edit of edits) setPlain(expected, edit.path, edit.value);
  let actual: unknown;
  try {
    actual = parse(after, { merge: true });
  } catch (error) {
    throw new YamlEditError(`${label}: the edit would produce invalid YAML: ${(error as Error).message}`);
  }
  const diff = differences(expected, actual);
  if (diff.length) {
    throw new YamlEditError(`${label}: the edit would also change ${diff.join(', ')} (a shared anchor?); refusing to change anything`);
  }
}
