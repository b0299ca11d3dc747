/**
 * An AWS endpoint on 127.0.0.1 that refuses every request at once with an error no SDK client retries (HTTP 400,
 * ValidationException), in the error shape of the request's protocol: XML for the query protocols (EC2, ELBv2),
 * JSON for the JSON protocols (DynamoDB, Step Functions, Secrets Manager, Scheduler).
 *
 * Why not a closed port: a refused connection (ECONNREFUSED) is a transient error the SDK retries with backoff, and
 * the clients of functions/adapters/aws/clients.ts set maxAttempts themselves (the store's DynamoDB client 8), which
 * AWS_MAX_ATTEMPTS does not override: the first call would then take the backoff's seconds, not the code's time.
 * A 4xx that is neither throttling nor clock skew is not retried
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RefusingEndpoint {
  url: string;
  /** Requests answered so far. */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startRefusingEndpoint(): Promise<RefusingEndpoint> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      const query = (req.headers['content-type'] ?? '').includes('x-www-form-urlencoded');
      const message = 'refused by the coldstart benchmark';
      if (query) {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>ValidationException</Code><Message>${message}</Message></Error></Errors><RequestID>coldstart</RequestID></Response>`,
        );
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'ValidationException' });
        res.end(JSON.stringify({ __type: 'ValidationException', message }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
