/** The EC2 Query client of the AWS adapters (client.ts), its operations' types and its wire format. */
export {
  Ec2QueryClient,
  Ec2ServiceError,
  Ec2TimeoutError,
  paginateDescribeInstances,
  type Ec2HttpResponse,
  type Ec2Middleware,
  type Ec2QueryClientConfig,
} from './client.js';
export type * from './types.js';
export { EC2_API_VERSION, serializeRequest } from './wire.js';
