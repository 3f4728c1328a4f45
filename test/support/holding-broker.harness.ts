import { type AddressInfo, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { Aedes } from 'aedes';

/**
 * An MQTT broker (aedes on an ephemeral port) that can hold back its PUBACKs,
 * as a broker too busy to take a gateway's acks does, for
 * test/broker-link.e2e-spec.ts; a child process because aedes is ESM.
 * stdout: {port}, then {held: n} each time a publish is held.
 * stdin: `hold <clientId suffix>` (hold publishes from clients whose id ends so),
 * `release <n>` (answers the n oldest held), `release-all` (all, and holds no more).
 */
const say = (fact: unknown) => process.stdout.write(`${JSON.stringify(fact)}\n`);

async function main(): Promise<void> {
  let holdSuffix: string | null = null;
  const held: (() => void)[] = [];
  const aedes = await Aedes.createBroker({
    // aedes writes a PUBLISH's PUBACK only once this has called back.
    authorizePublish: (client, _packet, callback) => {
      if (holdSuffix !== null && client?.id.endsWith(holdSuffix)) {
        held.push(() => callback(null));
        say({ held: held.length });
      } else {
        callback(null);
      }
    },
  });
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  say({ port: (server.address() as AddressInfo).port });
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, argument] = line.split(' ');
    if (command === 'hold') holdSuffix = argument ?? '';
    else if (command === 'release') held.splice(0, Number(argument)).forEach((release) => release());
    else if (command === 'release-all') {
      holdSuffix = null;
      held.splice(0).forEach((release) => release());
    }
  }
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  server.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
