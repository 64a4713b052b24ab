// Lets Node require TypeScript files by stripping their types with swc, as Jest does for the tests.
// Used by scripts/run-ts.js and by worker threads started from TypeScript sources (tests, benchmarks).
'use strict';
const fs = require('node:fs');
const swc = require('@swc/core');

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = function compileTs(module, filename) {
    const source = fs.readFileSync(filename, 'utf8');
    const { code } = swc.transformSync(source, {
      filename,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    });
    module._compile(code, filename);
  };
}
