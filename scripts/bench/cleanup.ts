import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Everything the bench starts or creates, undone on every way out: normal end,
 * an error, Ctrl+C. Child processes get SIGTERM, then SIGKILL if they linger.
 */
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const asyncCleanups: (() => Promise<void>)[] = [];

export function trackChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function trackTempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** An async undo step (e.g. dropping a database schema), run by `cleanUp`. */
export function onCleanUp(step: () => Promise<void>): void {
  asyncCleanups.push(step);
}

/** Stops one child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function killAllNow(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

export async function cleanUp(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
  for (const step of asyncCleanups.splice(0).reverse()) {
    await step().catch((err: unknown) => process.stderr.write(`bench: cleanup step failed: ${String(err)}\n`));
  }
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

let installed = false;
let interrupted = false;

/** True once Ctrl+C or SIGTERM arrived: the run is being torn down, not reported. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Ctrl+C and SIGTERM clean up and exit 130/143; a plain exit kills what is left. */
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
    const force = setTimeout(() => {
      killAllNow();
      process.exit(code);
    }, 8000);
    force.unref();
    void cleanUp().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('exit', killAllNow);
}
