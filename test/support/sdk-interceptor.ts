import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface InterceptedCall {
  command: string;
  input: Record<string, unknown>;
}

/**
 * Runs `around` on every command the client sends, before it goes out (`send` forwards it). Fault injection
 * for the real emulator: throw instead of calling send to simulate a crash before a write, run another
 * writer first to simulate a stall. Returns a function that removes the interceptor.
 */
export function interceptCommands(client: DynamoDBClient, around: (call: InterceptedCall, send: () => Promise<unknown>) => Promise<unknown>): () => void {
  const name = `test-interceptor-${Math.random().toString(36).slice(2)}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      let output: Awaited<ReturnType<typeof next>> | undefined;
      await around({ command: context.commandName ?? '', input: args.input as Record<string, unknown> }, async () => {
        output = await next(args);
        return output;
      });
      if (!output) throw new Error('the interceptor did not send the command');
      return output;
    },
    { step: 'initialize', name },
  );
  return () => {
    client.middlewareStack.remove(name);
  };
}

/** The string value of a key or item attribute in a command input. */
export function attr(input: Record<string, unknown>, field: 'Item' | 'Key', name: string): string | undefined {
  return (input[field] as Record<string, { S?: string }> | undefined)?.[name]?.S;
}
