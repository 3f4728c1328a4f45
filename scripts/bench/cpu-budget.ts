/**
 * Where a phase's CPU went, process by process and, in the gateway, thread by
 * thread, and what that says about the rate the machine can reach: the answer
 * to "what bounds it" for a saturated run, printed with every run instead of
 * worked out afterwards from `top`.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { DATABASE_THREAD_NAME } from '../../libs/persistence/src/worker/protocol';
import { readMachineCpu, statCpuSeconds, statName } from './process-stats';

const readOr = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // The process or thread has exited.
  }
};

/** CPU seconds of each thread of a process, by thread id, with its name. */
function readThreads(pid: number): Map<number, { name: string; seconds: number }> {
  const threads = new Map<number, { name: string; seconds: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    const stat = readOr(`/proc/${pid}/task/${tid}/stat`);
    if (stat === null) continue;
    threads.set(Number(tid), { name: statName(stat), seconds: statCpuSeconds(stat) });
  }
  return threads;
}

/** CPU seconds of every process whose name (comm) is `name`, by pid. */
function readProcessesNamed(name: string): Map<number, number> {
  const found = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOr(`/proc/${entry}/stat`);
    if (stat === null || statName(stat) !== name) continue;
    found.set(Number(entry), statCpuSeconds(stat));
  }
  return found;
}

/** A server on this machine whose processes' CPU counts apart: PostgreSQL (all its backends), Mosquitto. */
export interface ServiceProcesses {
  label: string;
  /** The processes' name as the kernel knows it (comm). */
  processName: string;
}

/** Scaled mode's servers, when they run on this machine (a broker elsewhere, or not Mosquitto, is simply not found). */
export const LOCAL_SERVERS: readonly ServiceProcesses[] = [
  { label: 'PostgreSQL', processName: 'postgres' },
  { label: 'Mosquitto', processName: 'mosquitto' },
];

export interface CpuBudget {
  wallSeconds: number;
  cores: number;
  /** Busy CPU seconds of all cores, the hypervisor's steal not included. */
  machineBusySeconds: number;
  /** Time the hypervisor gave this machine's cores to someone else while they had work. */
  stealSeconds: number;
  gateway: {
    seconds: number;
    mainThreadSeconds: number;
    /** Embedded mode's database thread (PGlite); null when the gateway has none (scaled mode). */
    databaseThreadSeconds: number | null;
    /** Node's own helpers: garbage collection, libuv's pool. */
    otherThreadsSeconds: number;
  };
  services: { label: string; seconds: number; processes: number }[];
  benchSeconds: number;
  /** What else ran: the machine's busy time less all of the above. */
  restSeconds: number;
}

interface Snapshot {
  at: number;
  machine: { busySeconds: number; stealSeconds: number };
  gatewayThreads: Map<number, { name: string; seconds: number }>;
  services: Map<number, number>[];
  bench: number;
}

/** Measures a CpuBudget between its construction and `stop()`. */
export class CpuBudgetMeter {
  private readonly start: Snapshot;

  constructor(
    private readonly gatewayPid: number,
    private readonly services: readonly ServiceProcesses[] = [],
  ) {
    this.start = this.snapshot();
  }

  stop(): CpuBudget {
    const end = this.snapshot();
    // A thread or process that came or went meanwhile counts from zero or up to its last reading.
    const threadDelta = (tid: number) => (end.gatewayThreads.get(tid)?.seconds ?? 0) - (this.start.gatewayThreads.get(tid)?.seconds ?? 0);
    const tids = new Set([...this.start.gatewayThreads.keys(), ...end.gatewayThreads.keys()]);
    let main = 0;
    let database: number | null = null;
    let other = 0;
    for (const tid of tids) {
      const seconds = Math.max(0, threadDelta(tid));
      const name = end.gatewayThreads.get(tid)?.name ?? this.start.gatewayThreads.get(tid)?.name;
      if (tid === this.gatewayPid) main += seconds;
      else if (name === DATABASE_THREAD_NAME) database = (database ?? 0) + seconds;
      else other += seconds;
    }
    const services = this.services.map((service, i) => {
      const before = this.start.services[i]!;
      const after = end.services[i]!;
      let seconds = 0;
      for (const [pid, cpu] of after) seconds += Math.max(0, cpu - (before.get(pid) ?? 0));
      return { label: service.label, seconds, processes: after.size };
    });
    const machineBusySeconds = end.machine.busySeconds - this.start.machine.busySeconds;
    const gatewaySeconds = main + (database ?? 0) + other;
    const benchSeconds = end.bench - this.start.bench;
    const servicesSeconds = services.reduce((sum, s) => sum + s.seconds, 0);
    return {
      wallSeconds: (end.at - this.start.at) / 1000,
      cores: cpus().length,
      machineBusySeconds,
      stealSeconds: end.machine.stealSeconds - this.start.machine.stealSeconds,
      gateway: { seconds: gatewaySeconds, mainThreadSeconds: main, databaseThreadSeconds: database, otherThreadsSeconds: other },
      services,
      benchSeconds,
      restSeconds: Math.max(0, machineBusySeconds - gatewaySeconds - benchSeconds - servicesSeconds),
    };
  }

  private snapshot(): Snapshot {
    const usage = process.cpuUsage();
    return {
      at: performance.now(),
      machine: readMachineCpu(),
      gatewayThreads: readThreads(this.gatewayPid),
      services: this.services.map((s) => readProcessesNamed(s.processName)),
      bench: (usage.user + usage.system) / 1e6,
    };
  }
}

export interface CpuBounds {
  /** The share of all cores that was busy (steal not counted as busy). */
  machineBusyShare: number;
  /** The rate at which every core would be busy, at this CPU per event. */
  machineEventsPerSecond: number;
  /** The busiest single thread of the gateway: a serial path no second core can help. */
  busiestThread: { label: string; busyShare: number; eventsPerSecond: number };
  /**
   * The rate at which every core would be busy with everything but the gateway
   * (the servers, the bench client, the rest): no gateway, however cheap, can go past it here.
   */
  withoutGatewayEventsPerSecond: number;
}

/** What a phase's CPU budget says about the rate this machine can reach for `events` acked events. */
export function cpuBounds(budget: CpuBudget, events: number): CpuBounds {
  // At c CPU seconds per event, n cores run at most n / c events a second.
  const perSecond = (seconds: number, cores = 1) => (seconds > 0 ? (events / seconds) * cores : Infinity);
  const threads: [string, number][] = [['gateway main thread', budget.gateway.mainThreadSeconds]];
  if (budget.gateway.databaseThreadSeconds !== null) threads.push(['database thread', budget.gateway.databaseThreadSeconds]);
  const [label, seconds] = threads.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    machineBusyShare: budget.machineBusySeconds / (budget.cores * budget.wallSeconds),
    machineEventsPerSecond: perSecond(budget.machineBusySeconds, budget.cores),
    busiestThread: { label, busyShare: seconds / budget.wallSeconds, eventsPerSecond: perSecond(seconds) },
    withoutGatewayEventsPerSecond: perSecond(budget.machineBusySeconds - budget.gateway.seconds, budget.cores),
  };
}
