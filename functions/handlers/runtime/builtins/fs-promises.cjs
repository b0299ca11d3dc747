// HandlerFunction aliases `fs/promises` and `node:fs/promises` to this file in the Lambda bundles (esbuild --alias):
// an alias of `fs` would otherwise remap it to a path under fs.cjs. The builtin as CommonJS, as fs.cjs.
module.exports = process.getBuiltinModule('node:fs/promises');
