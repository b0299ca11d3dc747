// HandlerFunction aliases `util/types` and `node:util/types` to this file in the Lambda bundles (esbuild --alias): an
// alias of `util` would otherwise remap it to a path under util.cjs (undici, in the mirror's bundle, requires it). The
// builtin as CommonJS, as util.cjs.
module.exports = process.getBuiltinModule('node:util/types');
