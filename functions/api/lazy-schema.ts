import * as z from 'zod';

/**
 * A schema built when it is first used rather than when its module is imported. Every schema of `functions/api` is
 * defined through it: building the API's zod schemas (thousands of zod instances) took about a third of the import
 * of a Lambda bundle, while a function uses only the kinds its invocation reads (bench/coldstart.ts, BENCHMARKS.md).
 *
 * The value is a Proxy that builds the schema (`build`) at the first access to any of its properties and forwards
 * every access to it from then on, so it stands for the schema wherever the schema stood: methods called on it run
 * with it as `this` (`.optional()` and the like wrap it), and a schema that holds it in its shape reads it through
 * the Proxy. Metadata the schema carries in zod's global registry (`.describe()`, `.meta()`) is registered for the
 * Proxy too, so JSON schemas made from it (openapi.ts) keep their descriptions. z.toJSONSchema keys what it has seen
 * by schema object, and a zod schema's own `_zod.processJSONSchema` hands its processor the schema it was built as,
 * not the Proxy: the Proxy's `_zod` (the schema's internals, through a view) has none, so z.toJSONSchema processes the
 * Proxy itself with its processor for the type (every type has one there).
 */
let builtCount = 0;

/** How many lazy schemas this process has built so far (a test holds the import of the API to none). */
export function lazySchemasBuilt(): number {
  return builtCount;
}

export function lazySchema<T extends object>(build: () => T): T {
  let state: { schema: T; internals: object } | undefined;
  const built = (): { schema: T; internals: object } => {
    if (state === undefined) {
      const schema = build();
      builtCount++;
      const internals = Object.create((schema as { _zod: object })._zod, { processJSONSchema: { value: undefined, writable: true } }) as object;
      state = { schema, internals };
      const meta = z.globalRegistry.get(schema as unknown as z.core.$ZodType);
      if (meta !== undefined) z.globalRegistry.add(proxy as unknown as z.core.$ZodType, meta);
    }
    return state;
  };
  const proxy: T = new Proxy(Object.create(null) as T, {
    get: (_, key) => {
      const { schema, internals } = built();
      return key === '_zod' ? internals : Reflect.get(schema, key);
    },
    set: (_, key, value) => Reflect.set(built().schema, key, value),
    has: (_, key) => Reflect.has(built().schema, key),
    ownKeys: () => Reflect.ownKeys(built().schema),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(built().schema, key);
      // The target is an empty extensible object: a Proxy may report a property it lacks only as configurable.
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(built().schema, key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(built().schema, key),
    getPrototypeOf: () => Reflect.getPrototypeOf(built().schema),
  });
  return proxy;
}
