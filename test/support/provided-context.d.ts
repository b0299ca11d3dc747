// What test/support/global-setup.ts provides to the test files.
declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:PORT of the run's moto_server. */
    motoEndpoint: string;
  }
}

export {};
