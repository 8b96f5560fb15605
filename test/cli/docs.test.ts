/**
 * The command lines the README and docs/cli.md show use only flags that exist: every `--flag` of every `ebm …` line
 * in a fenced block is in the `--help` of its command (`ebm train score --help`, `ebm sample --help`, …).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, ROOT } from './helpers.js';

/** The `ebm …` lines of the fenced blocks of a Markdown file, continuation lines joined, comments dropped. */
function commandLines(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    for (const raw of m[1].replace(/\\\n/g, ' ').split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (line.startsWith('ebm ')) out.push(line);
    }
  }
  return out;
}

/** The command words of a line: `ebm train score --sde vp …` → `['train', 'score']`. */
function commandOf(line: string): string[] {
  const words: string[] = [];
  for (const t of line.split(/\s+/).slice(1)) {
    if (t.startsWith('-') || /[.:/]/.test(t) || words.length === 2) break;
    words.push(t);
  }
  return words;
}

describe('documented command lines', () => {
  it.each(['README.md', 'docs/cli.md'])('%s: every flag is in its command\'s --help', async (file) => {
    const lines = commandLines(file);
    expect(lines.length).toBeGreaterThan(20);
    const help = new Map<string, string>();
    for (const line of lines) {
      let words = commandOf(line);
      const key = words.join(' ');
      if (!help.has(key)) {
        let r = await ebm(...words, '--help');
        if (r.code !== 0 && words.length === 2) {
          words = words.slice(0, 1); // `ebm sample MODEL`: the second word is an argument
          r = await ebm(...words, '--help');
        }
        expect(r.code, `ebm ${words.join(' ')} --help`).toBe(0);
        help.set(key, r.stdout);
      }
      for (const [flag] of line.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) {
        expect(help.get(key), `${file}: ${flag} in "${line.slice(0, 80)}…"`).toMatch(new RegExp(`${flag}(?![\\w-])`));
      }
    }
  });
});
