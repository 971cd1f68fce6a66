/**
 * The structure of HCL files as written: which items are blocks (`x { }`, `x "label" { }`) and
 * which are arguments (`x = …`), with each argument's expression kept as source text. hcl2json
 * (hclTree.ts) turns both `x { a = 1 }` and `x = [{ a = 1 }]` into the same JSON, so the
 * block-versus-argument check of schemaCheck.ts reads the source with this instead. Syntax
 * errors are hcl2json's job (every file is parsed by it too); this only needs to be right on
 * valid files: comments, strings with ${…} and %{…} templates, heredocs and brackets.
 */

export type HclAttribute = { name: string; expr: string; line: number };
export type HclBlock = { type: string; labels: string[]; body: HclBody; line: number };
export type HclBody = { attributes: HclAttribute[]; blocks: HclBlock[] };

class Lexer {
  pos = 0;
  constructor(
    readonly src: string,
    readonly file: string,
  ) {}

  line(at = this.pos): number {
    let n = 1;
    for (let i = 0; i < at && i < this.src.length; i++) if (this.src[i] === '\n') n++;
    return n;
  }

  fail(msg: string): never {
    throw new Error(`${this.file}:${this.line()}: ${msg}`);
  }

  peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  /** Skips spaces, tabs and comments; newlines too when `newlines`. */
  skip(newlines: boolean): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) this.pos++;
      else if (c === '#' || (c === '/' && this.peek(1) === '/')) {
        while (this.pos < this.src.length && this.peek() !== '\n') this.pos++;
      } else if (c === '/' && this.peek(1) === '*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('unterminated comment');
        this.pos = end + 2;
      } else return;
    }
  }

  identifier(): string | undefined {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.src.slice(this.pos, this.pos + 200));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  /** A quoted string starting at pos (with templates); returns its source text. */
  string(): string {
    const start = this.pos;
    this.pos++; // opening quote
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (c === '\\') this.pos += 2;
      else if (c === '"') {
        this.pos++;
        return this.src.slice(start, this.pos);
      } else if ((c === '$' || c === '%') && this.peek(1) === '{') {
        if (this.peek(-1) === c && this.src[this.pos - 2] !== c) {
          // $${ and %%{ are escapes
          this.pos += 2;
          continue;
        }
        this.pos += 2;
        this.expression('}');
        this.pos++; // closing brace
      } else if (c === '\n') this.fail('newline in a quoted string');
      else this.pos++;
    }
    return this.fail('unterminated string');
  }

  /** A heredoc starting at pos (`<<EOF` or `<<-EOF`). */
  heredoc(): void {
    const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n/.exec(this.src.slice(this.pos, this.pos + 200));
    if (!m) this.fail('bad heredoc');
    this.pos += m[0].length;
    const marker = m[1]!;
    for (;;) {
      const eol = this.src.indexOf('\n', this.pos);
      const line = this.src.slice(this.pos, eol < 0 ? this.src.length : eol);
      this.pos = eol < 0 ? this.src.length : eol;
      if (line.trim() === marker) return;
      if (eol < 0) this.fail(`unterminated heredoc ${marker}`);
      this.pos++;
    }
  }

  /**
   * Consumes an expression up to (not including) `until` at bracket depth 0: a newline ends an
   * argument's expression, a `}` a template interpolation or a one-line block.
   */
  expression(until: '\n' | '}'): string {
    const start = this.pos;
    const stack: string[] = [];
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (stack.length === 0 && (c === until || (until === '\n' && c === '}'))) break;
      if (c === '"') this.string();
      else if (c === '<' && this.peek(1) === '<' && /[-A-Za-z_]/.test(this.peek(2))) this.heredoc();
      else if (c === '#' || (c === '/' && this.peek(1) === '/')) {
        // A trailing line comment ends the argument; inside brackets it is skipped.
        if (stack.length === 0 && until === '\n') break;
        this.skip(false);
      } else if (c === '/' && this.peek(1) === '*') this.skip(false);
      else if (c === '(' || c === '[' || c === '{') {
        stack.push(c === '(' ? ')' : c === '[' ? ']' : '}');
        this.pos++;
      } else if (c === ')' || c === ']' || c === '}') {
        if (stack.pop() !== c) this.fail(`unbalanced ${c}`);
        this.pos++;
      } else this.pos++;
    }
    return this.src.slice(start, this.pos).trim();
  }

  body(closing: boolean): HclBody {
    const body: HclBody = { attributes: [], blocks: [] };
    for (;;) {
      this.skip(true);
      if (this.pos >= this.src.length) {
        if (closing) this.fail('missing }');
        return body;
      }
      if (this.peek() === '}') {
        if (!closing) this.fail('unexpected }');
        this.pos++;
        return body;
      }
      const line = this.line();
      const name = this.identifier() ?? this.fail(`expected an argument or block, found ${JSON.stringify(this.peek())}`);
      this.skip(false);
      if (this.peek() === '=' && this.peek(1) !== '=') {
        this.pos++;
        this.skip(false);
        body.attributes.push({ name, expr: this.expression('\n'), line });
        continue;
      }
      const labels: string[] = [];
      for (;;) {
        this.skip(false);
        if (this.peek() === '"') labels.push(JSON.parse(this.string()) as string);
        else if (this.peek() === '{') break;
        else labels.push(this.identifier() ?? this.fail(`expected a block label or {, found ${JSON.stringify(this.peek())}`));
      }
      this.pos++; // {
      body.blocks.push({ type: name, labels, body: this.body(true), line });
    }
  }
}

/** Parses one file's top-level body. */
export function parseHclStructure(text: string, file = 'main.tf'): HclBody {
  return new Lexer(text, file).body(false);
}

/**
 * The top-level keys of an object constructor expression `{ a = 1, "b" = 2 }` (undefined when
 * the expression is not a literal object, or a key is computed).
 */
export function objectKeys(expr: string): string[] | undefined {
  const t = expr.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  const lexer = new Lexer(t.slice(1, -1), 'object');
  const keys: string[] = [];
  for (;;) {
    lexer.skip(true);
    if (lexer.peek() === ',') {
      lexer.pos++;
      continue;
    }
    if (lexer.pos >= lexer.src.length) return keys;
    let key: string | undefined;
    if (lexer.peek() === '"') key = JSON.parse(lexer.string()) as string;
    else key = lexer.identifier();
    if (key === undefined) return undefined;
    lexer.skip(false);
    if (lexer.peek() !== '=' && lexer.peek() !== ':') return undefined;
    lexer.pos++;
    keys.push(key);
    // The value ends at a comma or newline at depth 0.
    const start = lexer.pos;
    const stack: string[] = [];
    while (lexer.pos < lexer.src.length) {
      const c = lexer.peek();
      if (stack.length === 0 && (c === ',' || c === '\n')) break;
      if (c === '"') lexer.string();
      else if (c === '<' && lexer.peek(1) === '<' && /[-A-Za-z_]/.test(lexer.peek(2))) lexer.heredoc();
      else if (c === '(' || c === '[' || c === '{') {
        stack.push(c);
        lexer.pos++;
      } else if (c === ')' || c === ']' || c === '}') {
        stack.pop();
        lexer.pos++;
      } else lexer.pos++;
    }
    if (lexer.pos === start) return undefined;
  }
}

/** The literal objects of `[ {…}, {…} ]` (undefined when it is not a literal list of objects). */
export function listOfObjects(expr: string): string[] | undefined {
  const t = expr.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return undefined;
  const inner = t.slice(1, -1);
  const items: string[] = [];
  let depth = 0;
  let start = -1;
  const lexer = new Lexer(inner, 'list');
  while (lexer.pos < inner.length) {
    const c = lexer.peek();
    if (c === '"') {
      lexer.string();
      continue;
    }
    if (c === '{' || c === '[' || c === '(') {
      if (depth === 0 && c === '{') start = lexer.pos;
      depth++;
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
      if (depth === 0 && c === '}' && start >= 0) {
        items.push(inner.slice(start, lexer.pos + 1));
        start = -1;
      }
    } else if (depth === 0 && !/[\s,]/.test(c)) return undefined;
    lexer.pos++;
  }
  return items;
}
