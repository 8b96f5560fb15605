/**
 * Vite config of the browser playground (`web/` is the project root). The page imports the library by its package
 * name (`ebm-ts`, `ebm-ts/tensor`, …) exactly as a user's app would: Node resolves the name to this package itself
 * (self-reference through `exports`), i.e. to the built `dist/` — so build the library first (`npm run build`; the
 * `build:web` and `playground` scripts do). No aliases: the library's entries carry no Node built-ins. Everything is
 * bundled (no CDN), so the built page in `web/dist` works offline; `base: './'` makes it work from any path or a
 * plain static server.
 */
import { defineConfig } from 'vite';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  root: here,
  base: './',
  define: { __EBM_VERSION__: JSON.stringify(pkg.version) },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  server: { fs: { allow: ['..'] } },
});
