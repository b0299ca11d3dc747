// HandlerFunction aliases `fs` and `node:fs` to this file in the Lambda bundles (esbuild --alias): the builtin as
// CommonJS rather than the ES module facade Node builds for it at import, which reads every export, the lazy ones
// included (see process.cjs).
module.exports = process.getBuiltinModule('node:fs');
