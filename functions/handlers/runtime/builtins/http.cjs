// HandlerFunction aliases `http` and `node:http` to this file in the Lambda bundles (esbuild --alias): the
// builtin as CommonJS, not the ES module facade Node builds for an `import ... from 'node:http'`, which reads every
// export, http's lazy WebSocket, CloseEvent and MessageEvent included, and so loads all of Node's undici at import.
module.exports = process.getBuiltinModule('node:http');
