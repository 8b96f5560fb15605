// After `tsc -p tsconfig.build.json`: make the CLI entry point executable (npm's bin shim needs it on POSIX).
import { chmodSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error(`postbuild: ${main} not found (did tsc fail?)`);
  process.exit(1);
}
chmodSync(main, statSync(main).mode | 0o111);
