// HandlerFunction aliases `stream/web` and `node:stream/web` to this file in the Lambda bundles (esbuild --alias): an
// alias of `stream` would otherwise remap it to a path under stream.cjs (undici, in the mirror's bundle, requires it).
// The builtin as CommonJS, as stream.cjs.
module.exports = process.getBuiltinModule('node:stream/web');
