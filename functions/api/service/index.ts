/** The API's object semantics, shared by the HTTP router and every in-process caller (fleet resource, soak, bench). */
export {
  ObjectService,
  UNGUARDED_ATTEMPTS,
  keyOf,
  storeErrorStatus,
  type Applied,
  type Body,
  type Deleted,
  type ListOptions,
  type ObjectKey,
  type ObjectList,
  type ObjectServiceDeps,
} from './object-service.js';
export { ApiError, type Status } from '../http/status.js';
