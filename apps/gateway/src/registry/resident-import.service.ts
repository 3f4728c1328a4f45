import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, type RejectedImportRow, readResidentImport } from '../../../../libs/domain/src';
import { type HeldDepositClaim, type ResidentImportCounts, ResidentImportRepository } from '../../../../libs/persistence/src';
import { GATEWAY_LOGGER } from '../http/audit.interceptor';
import { HeldDepositClaims } from '../http/held-deposit-claims';
import type { Logger } from '../logging/logger';
import { CsvUnclosedQuoteError, decodeCsvBytes, parseCsv } from './csv';

/** What one upload may weigh: about 200,000 residents. */
export const IMPORT_MAX_BYTES = 20 * 1024 * 1024;
/** Files with more rows run as a job: the upload is answered 202 at once, GET /imports/:id follows it. */
export const IMPORT_SYNC_MAX_ROWS = 2_000;
const PROGRESS_LOG_MS = 2_000;
const FINISHED_JOBS_KEPT = 100;

export interface ResidentImportReport extends ResidentImportCounts {
  importId: string;
  dryRun: boolean;
  /** Data rows in the file (blank lines not counted). */
  rowsTotal: number;
  /** Every bad row, by its file line (the header is line 1). */
  rejectedRows: RejectedImportRow[];
  /** Header cells that name no known column: their values were not read. */
  ignoredColumns: string[];
  encoding: 'utf-8' | 'gb18030';
  /** Held deposits credited to the holders of the cards bound (null in a dry run). */
  claims: HeldDepositClaim | null;
}

export interface ResidentImportJob {
  importId: string;
  communityId: string;
  dryRun: boolean;
  state: 'running' | 'done' | 'failed';
  rowsDone: number;
  rowsTotal: number;
  startedAt: Date;
  finishedAt: Date | null;
  result: ResidentImportReport | null;
  error: string | null;
}

export type ImportStart = { kind: 'finished'; report: ResidentImportReport } | { kind: 'accepted'; job: ResidentImportJob };

/**
 * CSV import of the resident register (issue #3): reads the file, judges each
 * row, applies the good ones in one transaction (ResidentImportRepository) and
 * reports the bad ones. Big files run as jobs kept in this process's memory:
 * with several gateway replicas, ask the one that answered the upload.
 */
@Injectable()
export class ResidentImportService {
  private readonly jobs = new Map<string, ResidentImportJob>();
  /** Rows the file checks rejected, per running job: done before the database sees the rest. */
  private readonly rejectedByFile = new Map<string, number>();

  constructor(
    @Inject(ResidentImportRepository) private readonly imports: ResidentImportRepository,
    @Inject(HeldDepositClaims) private readonly claims: HeldDepositClaims,
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
  ) {}

  async start(input: { communityId: string; actor: string; dryRun: boolean; bytes: Uint8Array }): Promise<ImportStart> {
    const { text, encoding } = decodeCsvBytes(input.bytes);
    let records;
    try {
      records = parseCsv(text);
    } catch (err) {
      if (err instanceof CsvUnclosedQuoteError) throw new DomainError('validation-failed', err.message, { line: err.line });
      throw err;
    }
    const read = readResidentImport(records);
    if (!read.ok) throw new DomainError('validation-failed', read.message);

    const importId = randomUUID();
    const job: ResidentImportJob = {
      importId,
      communityId: input.communityId,
      dryRun: input.dryRun,
      state: 'running',
      rowsDone: 0,
      rowsTotal: read.rowsTotal,
      startedAt: new Date(),
      finishedAt: null,
      result: null,
      error: null,
    };
    this.jobs.set(importId, job);
    this.rejectedByFile.set(importId, read.rejected.length);
    const log = { importId, communityId: input.communityId, dryRun: input.dryRun, actor: input.actor };
    this.logger.info({ ...log, rowsTotal: read.rowsTotal, fileRejected: read.rejected.length, encoding }, 'resident import started');

    const run = async (): Promise<ResidentImportReport> => {
      const outcome = await this.imports.run({
        importId,
        communityId: input.communityId,
        actor: input.actor,
        dryRun: input.dryRun,
        rows: read.rows,
        rejected: read.rejected,
      });
      const { boundCards, ...counts } = outcome;
      const claims = input.dryRun ? null : await this.claimAll(boundCards, input.actor, importId);
      return { ...counts, rowsTotal: read.rowsTotal, ignoredColumns: read.ignoredColumns, encoding, claims };
    };
    const finished = this.follow(job, run(), log);
    if (read.rowsTotal <= IMPORT_SYNC_MAX_ROWS) {
      const report = await finished;
      if (!report) throw new Error(job.error ?? 'the import failed');
      return { kind: 'finished', report };
    }
    void finished;
    return { kind: 'accepted', job: { ...job } };
  }

  /** The job, with live progress while it runs; null if this process never ran it (or forgot it). */
  async status(importId: string): Promise<ResidentImportJob | null> {
    const job = this.jobs.get(importId);
    if (!job) return null;
    if (job.state === 'running') await this.refreshProgress(job);
    return { ...job };
  }

  /** Records the end of the job and logs progress while it runs; never rejects. */
  private async follow(
    job: ResidentImportJob,
    running: Promise<ResidentImportReport>,
    log: Record<string, unknown>,
  ): Promise<ResidentImportReport | null> {
    const timer = setInterval(() => {
      void this.refreshProgress(job).then(() => {
        if (job.state === 'running')
          this.logger.info({ ...log, rowsDone: job.rowsDone, rowsTotal: job.rowsTotal }, 'resident import progress');
      });
    }, PROGRESS_LOG_MS);
    timer.unref();
    try {
      const report = await running;
      Object.assign(job, { state: 'done', rowsDone: job.rowsTotal, result: report, finishedAt: new Date() });
      const { rejectedRows: _rows, ignoredColumns: _ignored, ...counts } = report;
      this.logger.info({ ...log, ...counts }, 'resident import finished');
      return report;
    } catch (err) {
      Object.assign(job, {
        state: 'failed',
        finishedAt: new Date(),
        error: `导入失败，没有写入任何数据，请重试 / the import failed and changed nothing; try again (${err instanceof Error ? err.message : String(err)})`,
      });
      this.logger.error({ ...log, err }, 'resident import failed');
      return null;
    } finally {
      clearInterval(timer);
      this.rejectedByFile.delete(job.importId);
      this.forgetOldJobs();
    }
  }

  private async refreshProgress(job: ResidentImportJob): Promise<void> {
    const progress = await this.imports.progress(job.importId).catch(() => null);
    const fileRejected = this.rejectedByFile.get(job.importId) ?? 0;
    if (progress && job.state === 'running') job.rowsDone = Math.min(job.rowsTotal, fileRejected + progress.rowsDone);
  }

  /** Held deposits of every card the import bound; a failure is logged and does not undo the import. */
  private async claimAll(cards: { uid: string; residentId: string }[], actor: string, importId: string) {
    const total: HeldDepositClaim = { claimed: 0, points: 0, pendingPoints: 0 };
    for (const card of cards) {
      try {
        const claimed = await this.claims.claimHeldDeposits(card.uid, card.residentId, actor);
        total.claimed += claimed.claimed;
        total.points += claimed.points;
        total.pendingPoints += claimed.pendingPoints;
      } catch (err) {
        this.logger.error({ err, importId, uid: card.uid, residentId: card.residentId }, 'claiming held deposits after an import failed');
      }
    }
    return total;
  }

  private forgetOldJobs(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - FINISHED_JOBS_KEPT))) this.jobs.delete(job.importId);
  }
}
