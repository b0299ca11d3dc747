// The entry of the reflect-metadata package HandlerFunction writes beside a bundle that imports it (VENDORED_PACKAGES
// in infra/constructs/handler-function.ts): the Reflect metadata API, which tsyringe (under @peculiar/x509) needs.
import 'reflect-metadata';
