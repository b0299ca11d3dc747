/**
 * Injected into every Lambda bundle by HandlerFunction (esbuild `--inject`, so it runs before the handler's own
 * modules): stacks of the bundle's frames name the TypeScript sources, the map read only when a stack is formatted.
 */
import { installSourceMappedStacks } from './source-mapped-stacks.js';

installSourceMappedStacks(import.meta.url);
