// HandlerFunction aliases `process` and `node:process` to this file in the Lambda bundles (esbuild --alias): the ES
// module facade Node builds for `import ... from 'node:process'` reads every property of process, its lazy getters
// included: it creates process.stdin and process.stdout streams and the set of allowedNodeEnvironmentFlags at import
// (about 5 ms of CPU in a fresh Node 22, against 1 ms for the object itself).
module.exports = process;
