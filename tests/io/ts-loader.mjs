// A tiny Node module hook for child processes spawned by tests: lets plain `node` import the
// TypeScript sources in src/ (Node 20 cannot strip types). Relative '.js' specifiers that
// name a '.ts' file are redirected, and '.ts' files are transpiled with the typescript package.
//   node --import ./tests/io/ts-loader.mjs child.mjs
import { register } from 'node:module';

register('./ts-loader-hooks.mjs', import.meta.url);
