// The entry of the @peculiar/x509 package HandlerFunction writes beside a bundle that imports it (VENDORED_PACKAGES
// in infra/constructs/handler-function.ts): the package with its ASN.1 stack, reflect-metadata left to its own package.
export * from '@peculiar/x509';
