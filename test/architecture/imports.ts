/**
 * Import graph of the library and the playground, checked against the layering of docs/architecture.md: every
 * relative import (static, `export … from`, dynamic `import()`, `import('…')` types) is parsed with the TypeScript
 * parser, resolved to a file, and placed in a folder of {@link LAYERS}.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * Tier of every top-level folder (and of the barrel `src/index.ts`, called `index`): an import may only point to a
 * lower tier, to its own folder, or along one of the {@link SIBLINGS} edges.
 */
export const LAYERS: Readonly<Record<string, number>> = {
  errors: -1,
  tensor: 0,
  random: 1, nn: 1, optim: 1, energy: 1, io: 1, data: 1,
  samplers: 2, eval: 2, gpu: 2,
  losses: 3, diffusion: 3, inference: 3,
  models: 4, structured: 4,
  anomaly: 5,
  index: 6, node: 6,
  cli: 7, web: 7,
};

/** The only imports allowed between two folders of the same tier, with the reason. */
export const SIBLINGS: readonly (readonly [from: string, to: string, why: string])[] = [
  ['nn', 'random', 'parameter initialisers draw from keys'],
  ['optim', 'random', 'noisy transforms draw from keys'],
  ['energy', 'random', 'targets with exact samplers draw from keys'],
  ['io', 'random', 'checkpoints store keys'],
  ['data', 'random', 'shuffles and toy data draw from keys'],
  ['data', 'io', 'data sets are read with the file-format readers'],
  ['data', 'energy', 'the Gaussian-mixture toy sets are the mixture energy (one implementation)'],
  ['diffusion', 'losses', 'the time-conditioned DSM objectives build on the score-matching losses'],
];

/** One relative import: the importing file, 1-based line, the specifier and the file it resolves to. */
export interface ImportEdge {
  readonly from: string;
  readonly line: number;
  readonly spec: string;
  /** Repository-relative path of the target, or null when it resolves to no file. */
  readonly to: string | null;
}

/** Relative module specifiers of a source text, with their 1-based lines. */
export function importsOf(fileName: string, text: string): { spec: string; line: number }[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: { spec: string; line: number }[] = [];
  const add = (lit: ts.Node): void => {
    if (!ts.isStringLiteralLike(lit)) return;
    if (lit.text.startsWith('.')) out.push({ spec: lit.text, line: sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Resolves a relative specifier the way NodeNext does for this repository (`./x.js` → `./x.ts`). */
function resolveSpec(root: string, from: string, spec: string): string | null {
  const abs = resolve(root, dirname(from), spec);
  const candidates = /\.js$/.test(spec) ? [abs.replace(/\.js$/, '.ts'), abs.replace(/\.js$/, '.tsx'), abs] : [abs, `${abs}.ts`, join(abs, 'index.ts')];
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return relative(root, c).split(sep).join('/');
  return null;
}

/** Every `.ts`/`.tsx` file under `dirs` (repository-relative, `/`-separated). */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(e.name)) out.push(p);
    }
  };
  for (const d of dirs) if (existsSync(join(root, d))) walk(d);
  return out.sort();
}

/** All relative imports of `files`. */
export function importGraph(root: string, files: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const f of files) {
    for (const { spec, line } of importsOf(f, readFileSync(join(root, f), 'utf8'))) edges.push({ from: f, line, spec, to: resolveSpec(root, f, spec) });
  }
  return edges;
}

/**
 * The layering unit of a file: `src/<folder>/…` → folder, `src/index.ts` → `index`, another module at the root of src
 * (`src/errors.ts`) → its name (`errors`, to be placed in {@link LAYERS} like a folder), `web/…` → `web`; else null.
 */
export function folderOf(file: string): string | null {
  const p = file.split('/');
  if (p[0] === 'web') return 'web';
  if (p[0] !== 'src') return null;
  return p.length === 2 ? p[1].replace(/\.tsx?$/, '') : p[1];
}

/** `file:line` of an edge. */
export const where = (e: ImportEdge): string => `${e.from}:${e.line}`;

/** Imports against the layering (and imports that resolve to no file, or from/to an unplaced folder), one line each. */
export function layeringViolations(edges: readonly ImportEdge[]): string[] {
  const bad: string[] = [];
  const allowed = new Set(SIBLINGS.map(([a, b]) => `${a}>${b}`));
  for (const e of edges) {
    if (e.to === null) {
      bad.push(`${where(e)}: import '${e.spec}' resolves to no file`);
      continue;
    }
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === null || b === null) {
      bad.push(`${where(e)}: import '${e.spec}' leaves src/ and web/ (${e.to})`);
      continue;
    }
    for (const f of [a, b]) if (!(f in LAYERS)) bad.push(`${where(e)}: folder '${f}' is not placed in the layering table (test/architecture/imports.ts LAYERS, docs/architecture.md)`);
    if (!(a in LAYERS) || !(b in LAYERS) || a === b) continue;
    if (LAYERS[b] < LAYERS[a] || allowed.has(`${a}>${b}`)) continue;
    const dir = LAYERS[b] === LAYERS[a] ? 'a sibling of the same tier' : 'a higher tier';
    bad.push(`${where(e)}: ${a} (tier ${LAYERS[a]}) imports ${b} (tier ${LAYERS[b]}, ${dir}) via '${e.spec}'`);
  }
  return bad;
}

/** Imports of a private `…/_internal/…` file from outside the folder that holds that `_internal/`. */
export function internalViolations(edges: readonly ImportEdge[]): string[] {
  const bad: string[] = [];
  for (const e of edges) {
    if (e.to === null) continue;
    const i = e.to.indexOf('/_internal/');
    if (i < 0) continue;
    const owner = e.to.slice(0, i + 1);
    if (!e.from.startsWith(owner)) bad.push(`${where(e)}: imports the private ${e.to} from outside ${owner}`);
  }
  return bad;
}

/** Strongly connected components with more than one node (Tarjan), each sorted, in a stable order. */
export function cycles(nodes: readonly string[], next: (n: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let i = 0;
  const strong = (v: string): void => {
    index.set(v, i);
    low.set(v, i);
    i++;
    stack.push(v);
    on.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) strong(v);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Import cycles between files and between folders, each reported with the imports (file:line) that close it. */
export function cycleViolations(edges: readonly ImportEdge[]): string[] {
  const resolved = edges.filter((e): e is ImportEdge & { to: string } => e.to !== null);
  const bad: string[] = [];
  const fileNext = new Map<string, string[]>();
  for (const e of resolved) (fileNext.get(e.from) ?? fileNext.set(e.from, []).get(e.from)!).push(e.to);
  const files = [...new Set(resolved.flatMap((e) => [e.from, e.to]))].sort();
  for (const comp of cycles(files, (f) => fileNext.get(f) ?? [])) {
    const inside = new Set(comp);
    const via = resolved.filter((e) => inside.has(e.from) && inside.has(e.to)).map((e) => `${where(e)} → ${e.to}`);
    bad.push(`file cycle among ${comp.join(', ')}: ${via.join('; ')}`);
  }
  const folderEdges = resolved
    .map((e) => ({ e, a: folderOf(e.from), b: folderOf(e.to) }))
    .filter((x): x is { e: ImportEdge & { to: string }; a: string; b: string } => x.a !== null && x.b !== null && x.a !== x.b);
  const folderNext = new Map<string, Set<string>>();
  for (const { a, b } of folderEdges) (folderNext.get(a) ?? folderNext.set(a, new Set()).get(a)!).add(b);
  const folders = [...new Set(folderEdges.flatMap((x) => [x.a, x.b]))].sort();
  for (const comp of cycles(folders, (f) => [...(folderNext.get(f) ?? [])])) {
    const inside = new Set(comp);
    const via = folderEdges.filter((x) => inside.has(x.a) && inside.has(x.b)).map((x) => `${where(x.e)} (${x.a} → ${x.b})`);
    bad.push(`folder cycle among ${comp.join(', ')}: ${via.join('; ')}`);
  }
  return bad;
}
