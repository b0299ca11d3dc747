// The builtin as CommonJS in the Lambda bundles (HandlerFunction's COMMONJS_BUILTINS, in infra/constructs/handler-function.ts).
module.exports = process.getBuiltinModule('node:child_process');
