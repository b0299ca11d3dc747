// What test/support/global-setup.ts provides to the test files.
declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:PORT of each worker's moto_server, by VITEST_POOL_ID - 1 (moto-endpoint.ts). */
    motoEndpoints: string[];
  }
}

export {};
