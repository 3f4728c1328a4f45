import { readFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks; CLK_TCK is 100 on every mainstream kernel. */
const CLK_TCK = 100;

/** utime + stime from a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat line, in seconds. */
export function statCpuSeconds(statLine: string): number {
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name (state → index 0).
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The command name (comm) of a /proc stat line: a thread's name, or a process's. */
export function statName(statLine: string): string {
  return statLine.slice(statLine.indexOf('(') + 1, statLine.lastIndexOf(')'));
}

/** utime + stime of a process, in seconds, from /proc/<pid>/stat. */
export function readCpuSeconds(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export interface MemoryReading {
  rssBytes: number;
  /** Peak resident set size since the process started (VmHWM). */
  peakRssBytes: number;
}

export function readMemory(pid: number): MemoryReading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** Samples a process's VmRSS every `intervalMs` and keeps the maximum. */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  maxRssBytes = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 500,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return this.maxRssBytes;
  }

  private sample(): void {
    try {
      this.maxRssBytes = Math.max(this.maxRssBytes, readMemory(this.pid).rssBytes);
    } catch {
      // The process has exited; keep what was seen.
    }
  }
}

/** CPU seconds a process (another one by pid, or this one) spends between `start` and `stop`. */
export class CpuMeter {
  private readonly startSeconds: number;

  constructor(private readonly pid: number = process.pid) {
    this.startSeconds = this.read();
  }

  elapsedSeconds(): number {
    return this.read() - this.startSeconds;
  }

  private read(): number {
    if (this.pid === process.pid) {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1e6;
    }
    return readCpuSeconds(this.pid);
  }
}

/** /proc/stat's first line: busy seconds of all cores, and the hypervisor's steal apart. */
export function parseProcStat(firstLine: string): { busySeconds: number; stealSeconds: number } {
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = firstLine.trim().split(/\s+/).slice(1).map(Number);
  return { busySeconds: (user + nice + system + irq + softirq) / CLK_TCK, stealSeconds: steal / CLK_TCK };
}

/** The whole machine (all cores), from /proc/stat. */
export function readMachineCpu(): { busySeconds: number; stealSeconds: number } {
  return parseProcStat(readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!);
}

export const mib = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;
