// HandlerFunction aliases `https` and `node:https` to this file in the Lambda bundles (esbuild --alias): the
// builtin as CommonJS rather than the ES module facade Node builds for it at import (see http.cjs).
module.exports = process.getBuiltinModule('node:https');
