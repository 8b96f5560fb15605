/**
 * Vite config of the browser playground (`web/` is the project root). The page imports the library from `../src`
 * directly; the few Node built-ins that library I/O modules import statically are aliased to throwing stubs
 * (`src/shims/node.ts`), so nothing Node-only reaches the bundle. Everything is bundled (no CDN), so the built page
 * in `web/dist` works offline; `base: './'` makes it work from any path or a plain static server.
 */
import { defineConfig } from 'vite';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const shim = fileURLToPath(new URL('./src/shims/node.ts', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  root: here,
  base: './',
  define: { __EBM_VERSION__: JSON.stringify(pkg.version) },
  resolve: {
    alias: [
      { find: /^node:(fs|fs\/promises|path)$/, replacement: shim },
    ],
  },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  server: { fs: { allow: ['..'] } },
});
