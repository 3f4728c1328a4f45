import { type AddressInfo, createServer } from 'node:net';
import { Aedes } from 'aedes';

/**
 * A bare aedes broker (no authentication, no hooks) in its own process, for the
 * broker-ceiling run: it must not share an event loop with the publisher.
 * Prints `{"port":N}` once listening; exits when its stdin closes, so it cannot
 * outlive the bench even if the bench is killed.
 */
async function main(): Promise<void> {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  const stop = () => {
    server.close();
    aedes.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`raw-broker: ${String(err)}\n`);
  process.exit(1);
});
