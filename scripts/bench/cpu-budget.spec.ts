import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { DATABASE_THREAD_NAME } from '../../libs/persistence/src/worker/protocol';
import { type CpuBudget, CpuBudgetMeter, cpuBounds } from './cpu-budget';
import { parseProcStat, statCpuSeconds, statName } from './process-stats';
import { formatBounds, formatCpuBudget } from './report';

const budget = (over: Partial<CpuBudget> = {}): CpuBudget => ({
  wallSeconds: 10,
  cores: 2,
  machineBusySeconds: 16,
  stealSeconds: 0,
  gateway: { seconds: 9, mainThreadSeconds: 2, databaseThreadSeconds: 6, otherThreadsSeconds: 1 },
  services: [],
  benchSeconds: 4,
  restSeconds: 3,
  ...over,
});

describe('the CPU budget of a bench phase', () => {
  it('reads a thread name with spaces and parentheses, and its utime + stime', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const line = '4242 (jifen (db) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0';
    expect(statName(line)).toBe('jifen (db) x');
    expect(statCpuSeconds(line)).toBeCloseTo(3.25, 9);
  });

  it("keeps the hypervisor's steal out of the machine's busy time", () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    expect(parseProcStat('cpu  1000 10 300 9000 50 5 20 400 0 0')).toEqual({ busySeconds: 13.35, stealSeconds: 4 });
  });

  it('turns the budget into the rates that would fill the cores, the busiest thread, and the cores without the gateway', () => {
    const b = cpuBounds(budget(), 10_000);
    expect(b.machineBusyShare).toBeCloseTo(0.8, 9);
    expect(b.machineEventsPerSecond).toBeCloseTo(1250, 6); // 2 cores ÷ 1.6 ms per event
    expect(b.busiestThread).toEqual({ label: 'database thread', busyShare: 0.6, eventsPerSecond: 10_000 / 6 });
    expect(b.withoutGatewayEventsPerSecond).toBeCloseTo(2857.14, 1); // 2 cores ÷ 0.7 ms per event

    // Scaled mode: no database thread, so the main thread is the one that counts.
    const scaled = cpuBounds(
      budget({ gateway: { seconds: 5, mainThreadSeconds: 4, databaseThreadSeconds: null, otherThreadsSeconds: 1 } }),
      10_000,
    );
    expect(scaled.busiestThread.label).toBe('gateway main thread');
    expect(scaled.busiestThread.eventsPerSecond).toBe(2500);
  });

  it('prints the budget per 1,000 events and the bounds in words', () => {
    const b = budget({
      services: [
        { label: 'PostgreSQL', seconds: 1, processes: 12 },
        { label: 'Mosquitto', seconds: 0, processes: 0 },
      ],
    });
    expect(formatCpuBudget(b, 10_000)).toBe(
      "gateway 0.900 s (main thread 0.200, database thread 0.600, Node's other threads 0.100), PostgreSQL 0.100 s, " +
        'Mosquitto not on this machine, bench client 0.400 s, the rest 0.300 s',
    );
    expect(formatBounds(cpuBounds(b, 10_000), 2)).toBe(
      '80 % of 2 cores busy; all of them at ≈ 1,250 events/s; the database thread (60 % busy) at ≈ 1,667 events/s; ' +
        'everything but the gateway would fill the cores at ≈ 2,857 events/s',
    );
  });

  describe('measured on a real process', () => {
    let child: ChildProcess | null = null;
    afterEach(() => {
      child?.kill('SIGKILL');
      child = null;
    });

    it("counts a thread named as the gateway's database thread apart from the main thread", async () => {
      // The child's worker names itself as persistence.worker does, then both spin: the worker for 800 ms, the main thread for 100 ms (of wall time: a busy machine
      // may give them less CPU, so the checks below are ratios and floors, not exact figures).
      const script = `
        const { Worker } = require('node:worker_threads');
        const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
        const worker = new Worker(\`
          require('node:fs').writeFileSync('/proc/thread-self/comm', ${JSON.stringify(DATABASE_THREAD_NAME)});
          require('node:worker_threads').parentPort.once('message', () => {
            const end = Date.now() + 800; while (Date.now() < end);
            require('node:worker_threads').parentPort.postMessage('done');
          });
          require('node:worker_threads').parentPort.postMessage('named');
        \`, { eval: true });
        worker.once('message', () => {
          process.stdout.write('ready\\n');
          process.stdin.once('data', () => {
            worker.postMessage('go');
            spin(100);
            worker.once('message', () => { process.stdout.write('done\\n'); });
          });
        });`;
      const started = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
      child = started;
      const lines: string[] = [];
      const waitFor = async (line: string) => {
        while (!lines.includes(line)) await once(started.stdout, 'data').then(([d]) => lines.push(...String(d).trim().split('\n')));
      };
      await waitFor('ready');
      const meter = new CpuBudgetMeter(started.pid!);
      started.stdin.write('go\n');
      await waitFor('done');
      const cpu = meter.stop();

      expect(cpu.gateway.databaseThreadSeconds).not.toBeNull();
      expect(cpu.gateway.databaseThreadSeconds!).toBeGreaterThanOrEqual(0.15);
      expect(cpu.gateway.mainThreadSeconds * 2).toBeLessThan(cpu.gateway.databaseThreadSeconds!);
      expect(cpu.gateway.seconds).toBeCloseTo(
        cpu.gateway.mainThreadSeconds + cpu.gateway.databaseThreadSeconds! + cpu.gateway.otherThreadsSeconds,
        9,
      );
      expect(cpu.machineBusySeconds).toBeGreaterThanOrEqual(cpu.gateway.databaseThreadSeconds! - 0.05);
    });
  });
});
