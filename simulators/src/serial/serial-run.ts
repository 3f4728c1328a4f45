import { type AdminClient } from '../admin-client';
import { type SimulatorOptions } from '../options';

export interface SerialRunContext {
  options: SimulatorOptions;
  api: AdminClient;
  mqttUrl: string;
  log: (line: string) => void;
}

export function runSerialChain(ctx: SerialRunContext): Promise<number> {
  ctx.log('--serial is not available in this build');
  return Promise.resolve(2);
}
