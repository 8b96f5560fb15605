import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quickstart } from '../examples/quickstart.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The body of the first fenced code block of language `lang` after the heading line `heading`. */
function blockAfter(heading: string, lang: string): string {
  const at = README.indexOf(`\n${heading}\n`);
  expect(at, `README has the heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const open = README.indexOf('```' + lang + '\n', at);
  const start = open + 4 + lang.length;
  return README.slice(start, README.indexOf('\n```', start));
}

/** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

describe('README example (examples/quickstart.ts)', () => {
  it('is the code the README shows', () => {
    const example = readFileSync(join(ROOT, 'examples/quickstart.ts'), 'utf8').replace("from '../src/index.js'", "from 'ebm-ts'");
    const lines = example.split('\n').map((l) => l.trim());
    // Every line of the README block stands in the example, which the test below runs; the example's step count
    // is a parameter (1500 in the README) and the README prints what the example returns.
    for (const line of blockAfter('## A first model in code', 'ts').split('\n')) {
      if (line.startsWith('console.log(')) continue;
      expect(lines, `README line "${line}"`).toContain(line.trim().replace('t < 1500', 't < steps'));
    }
  });

  it('runs: trains, evaluates against the true density and samples', () => {
    const r = quickstart(800);
    expect(Number.isFinite(r.avgLogLik)).toBe(true);
    // 800 DSM steps get within 1 nat of the true density's held-out log-likelihood (≈0.2 nat after 1500).
    expect(r.trueAvgLogLik - r.avgLogLik).toBeLessThan(1.0);
    expect(r.ess).toBeGreaterThan(10);
    // The 8-Gaussians target is centred: the chains' mean is near 0 (each coordinate has sd ≈ 1.4, ESS > 10).
    for (const m of r.sampleMean) expect(Math.abs(m)).toBeLessThan(1.5);
  });
});

describe('README', () => {
  it("the library snippet is the page test/package/browser.test.ts builds from the packed tarball and runs", () => {
    const app = readFileSync(join(ROOT, 'test/package/app/main.ts'), 'utf8').split('\n').map((l) => l.trim());
    const block = blockAfter('## Install and use as a library', 'ts').split('\n');
    const appImports = new Set(/import \{([^}]*)\} from 'ebm-ts'/.exec(app.join('\n'))![1].split(',').map((s) => s.trim()));
    for (const line of block) {
      const imp = /^import \{([^}]*)\} from 'ebm-ts';$/.exec(line);
      if (imp) for (const n of imp[1].split(',').map((s) => s.trim())) expect(appImports, `import ${n}`).toContain(n);
      else if (!line.startsWith('console.log(')) expect(app, `README line "${line}"`).toContain(line.replace(/\s+\/\/.*$/, '').trim());
    }
  });

  it('keeps the Quick start command lines that CI runs', () => {
    expect(blockAfter('## Quick start', 'sh')).toBe('npm run setup && node dist/cli/main.js demo\nnpm test');
  });

  it('every relative link and image points to a file of the repository, every #anchor to a heading', () => {
    const headings = new Set(README.split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));
    const targets = [...README.matchAll(/\]\(([^)\s]+)\)/g), ...README.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    expect(targets.length).toBeGreaterThan(5);
    for (const t of targets) {
      if (/^[a-z]+:/.test(t)) continue; // https:, mailto:
      if (t.startsWith('#')) expect(headings, `anchor ${t}`).toContain(t.slice(1));
      else expect(existsSync(join(ROOT, t.split('#')[0])), `link ${t}`).toBe(true);
    }
  });
});
