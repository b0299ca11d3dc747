// HandlerFunction aliases `yaml` to this file in the Lambda bundles (esbuild --alias): the package is evaluated at
// its first use rather than at import (its modules take 8 to 10 ms of CPU to evaluate; the http function reads YAML
// only for YAML bodies and output, and no function reads any before its first AWS call). It exports what functions/
// imports from yaml, each the package's own function (test/unit/handlers/yaml-shim.test.ts holds it to that). The
// package is required by its path: an alias of `yaml` also applies to this file's own imports.
let yaml;
const load = () => {
  yaml ??= require('../../../node_modules/yaml/dist/index.js');
  return yaml;
};
exports.parse = (...args) => load().parse(...args);
exports.parseAllDocuments = (...args) => load().parseAllDocuments(...args);
exports.parseDocument = (...args) => load().parseDocument(...args);
exports.stringify = (...args) => load().stringify(...args);
