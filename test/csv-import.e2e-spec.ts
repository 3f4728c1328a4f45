import type { ResidentImportCounts } from '../libs/persistence/src/registry/resident-import.repository';
import { ApiClient, createCommunity, eventually, newCardUid } from './support/api-client';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';
import { modeName } from './support/test-mode';

jest.setTimeout(120_000);

interface Report extends ResidentImportCounts {
  dryRun: boolean;
  rowsTotal: number;
  rejectedRows: { line: number; ref: string | null; reason: string; message: string }[];
  ignoredColumns: string[];
}

describe(`CSV import of residents, households and cards — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
  });

  afterAll(async () => {
    await gateway?.dispose();
  });

  async function postCsv(communityId: string, body: string | Buffer, query = 'dryRun=false', contentType = 'text/csv; charset=utf-8') {
    const res = await fetch(`${gateway.baseUrl}/api/v1/communities/${communityId}/imports/residents?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': contentType },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function residentsOf(communityId: string) {
    const all: any[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await api.ok('GET', `/api/v1/communities/${communityId}/residents?limit=1000${after ? `&after=${after}` : ''}`);
      all.push(...page.residents);
      if (page.residents.length < 1000) return { residents: all, total: page.total as number };
      after = page.residents[page.residents.length - 1].id;
    }
  }

  const cardCount = (residents: { cards: string[] }[]) => residents.reduce((n, r) => n + r.cards.length, 0);
  const lineReasons = (report: Report) => report.rejectedRows.map((r) => [r.line, r.reason]);

  /** A register as a community office would export it, mistakes included. */
  function registerFile(cards: { a001: string; a006: string; a010: string; heldElsewhere: string }) {
    const typed = cards.a001.toLowerCase().match(/../g)!.join(':');
    const lines = [
      '编号,姓名,楼栋,户,电话,卡号,备注',
      `A001,张三,3号楼,3-2-201,13800138000,${typed},`, // 2
      'A002,"王, 小明",3号楼,3-2-201,,,', // 3: a comma inside quotes
      'A003,,3号楼,3-2-202,,,', // 4: no name
      'A004,李四,5号楼,5-1-101,,XYZ,', // 5: not a card uid
      'A001,张三又一次,,,,,', // 6: ref twice
      `A006,"赵""六""",5号楼,5-1-101,,${cards.a001},`, // 7: card twice
      'A007,钱七,5号楼,5-1-102,,,"第一行\r\n第二行"', // 8-9: a line break inside quotes
      `A008,孙八,,,,${cards.heldElsewhere},`, // 10: card held by another resident
      'A009,周九,,,1.38E+10,,', // 11: Excel's idea of a phone number
      `A010,吴十,6号楼,6-1-101,+86 139-0000-0000,${cards.a010},`, // 12
      'A011,郑十一,5号楼,3-2-201,,,', // 13: 3-2-201 is in 3号楼
      '', // a blank line
      `A012,冯十二,,,,${cards.a006},`, // 15
    ];
    return '\uFEFF' + lines.join('\r\n') + '\r\n';
  }

  const expectedRejections = [
    [4, 'missing-name'],
    [5, 'bad-card-uid'],
    [6, 'duplicate-ref'],
    [7, 'duplicate-card'],
    [10, 'card-already-bound'],
    [11, 'bad-phone'],
    [13, 'household-in-other-building'],
  ];

  describe('a register with a BOM, Chinese names, CRLF, quoted commas and broken rows', () => {
    let communityId: string;
    let file: string;
    const cards = { a001: newCardUid(), a006: newCardUid(), a010: newCardUid(), heldElsewhere: newCardUid() };
    let holderId: string;

    beforeAll(async () => {
      communityId = await createCommunity(api, '导入测试社区');
      holderId = (await api.ok('POST', '/api/v1/residents', { communityId, name: '欧阳娜娜' })).id;
      await api.ok('POST', `/api/v1/residents/${holderId}/cards`, { uid: cards.heldElsewhere });
      file = registerFile(cards);
    });

    it('dry run: reports every bad row with its file line and reason, and writes nothing', async () => {
      const res = await postCsv(communityId, file, 'dryRun=true');
      expect(res.status).toBe(200);
      const report = res.body as Report;
      expect(report).toMatchObject({
        dryRun: true,
        rowsTotal: 12,
        created: 5,
        updated: 0,
        unchanged: 0,
        rejected: 7,
        buildingsCreated: 3,
        householdsCreated: 3,
        cardsBound: 3,
        ignoredColumns: ['备注'],
      });
      expect(lineReasons(report)).toEqual(expectedRejections);
      const byLine = new Map(report.rejectedRows.map((r) => [r.line, r]));
      expect(byLine.get(6)!.message).toContain('line 2');
      expect(byLine.get(7)!.message).toContain(cards.a001);
      expect(byLine.get(10)!.message).toContain('欧**娜');
      expect(byLine.get(13)!.message).toContain('3号楼');

      // Nothing written: only the resident made by the API, no buildings, no households, no new cards.
      expect((await residentsOf(communityId)).total).toBe(1);
      expect((await api.ok('GET', `/api/v1/communities/${communityId}/buildings`)).buildings).toEqual([]);
      expect((await api.ok('GET', `/api/v1/communities/${communityId}/households`)).households).toEqual([]);
      expect((await api.request('GET', `/api/v1/cards/${cards.a001}`)).status).toBe(404);
    });

    it('import: applies the good rows in one go and reports the rest', async () => {
      const res = await postCsv(communityId, file);
      expect(res.status).toBe(200);
      const report = res.body as Report;
      expect(report).toMatchObject({ dryRun: false, created: 5, updated: 0, unchanged: 0, rejected: 7, cardsBound: 3 });
      expect(lineReasons(report)).toEqual(expectedRejections);

      const { residents, total } = await residentsOf(communityId);
      expect(total).toBe(6);
      const byRef = new Map(residents.map((r) => [r.externalRef, r]));
      expect([...byRef.keys()].map(String).sort()).toEqual(['A001', 'A002', 'A007', 'A010', 'A012', 'null']);
      expect(byRef.get('A001')).toMatchObject({
        name: '张三',
        phone: '13800138000',
        householdName: '3-2-201',
        buildingName: '3号楼',
        cards: [cards.a001],
      });
      expect(byRef.get('A002')).toMatchObject({ name: '王, 小明', householdName: '3-2-201', cards: [] });
      expect(byRef.get('A007')).toMatchObject({ name: '钱七', householdName: '5-1-102', buildingName: '5号楼' });
      expect(byRef.get('A010')).toMatchObject({ phone: '+86 139-0000-0000', cards: [cards.a010], buildingName: '6号楼' });
      expect(byRef.get('A012')).toMatchObject({ name: '冯十二', householdId: null, cards: [cards.a006] });

      const card = await api.ok('GET', `/api/v1/cards/${cards.a001}`);
      expect(card.history).toMatchObject([{ action: 'bound', actor: 'staff:bootstrap', reason: expect.stringContaining('line 2') }]);
      expect((await api.ok('GET', `/api/v1/cards/${cards.heldElsewhere}`)).residentId).toBe(holderId);
      const history = (await api.ok('GET', `/api/v1/residents/${byRef.get('A001').id}/residences`)).residences;
      expect(history).toMatchObject([{ householdName: '3-2-201', toAt: null }]);
      expect(gateway.stdout).toContain('resident import finished');
    });

    it('a second import of the same file changes nothing', async () => {
      const before = await residentsOf(communityId);
      const res = await postCsv(communityId, file);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        created: 0,
        updated: 0,
        unchanged: 5,
        rejected: 7,
        cardsBound: 0,
        buildingsCreated: 0,
        householdsCreated: 0,
      });
      const after = await residentsOf(communityId);
      expect(after.total).toBe(before.total);
      expect(cardCount(after.residents)).toBe(cardCount(before.residents));
      expect(cardCount(after.residents)).toBe(4); // three from the file, one bound before it
      expect((await api.ok('GET', `/api/v1/cards/${cards.a001}`)).history).toHaveLength(1);
    });

    it('a later register moves, renames and re-phones residents, keeping their history', async () => {
      const changed = [
        'ref,name,building,household,phone',
        'A002,王小明,3号楼,3-2-202,',
        'A010,吴十,6号楼,6-1-101,13700000000',
        'A001,张三,,,',
      ].join('\n');
      const res = await postCsv(communityId, changed);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ created: 0, updated: 2, unchanged: 1, moves: 1, rejected: 0 });
      const { residents } = await residentsOf(communityId);
      const a002 = residents.find((r) => r.externalRef === 'A002');
      expect(a002).toMatchObject({ name: '王小明', householdName: '3-2-202' });
      // Empty cells leave stored values alone.
      expect(residents.find((r) => r.externalRef === 'A001')).toMatchObject({ phone: '13800138000', householdName: '3-2-201' });
      const history = (await api.ok('GET', `/api/v1/residents/${a002.id}/residences`)).residences;
      expect(history.map((h: { householdName: string; toAt: string | null }) => [h.householdName, h.toAt === null])).toEqual([
        ['3-2-201', false],
        ['3-2-202', true],
      ]);
    });

    it('does not undo a loss report when the register lists the lost card again', async () => {
      await api.ok('POST', `/api/v1/cards/${cards.a010}/report-lost`, {});
      const res = await postCsv(communityId, file);
      expect(res.body).toMatchObject({ created: 0, cardsBound: 0 });
      expect((await api.ok('GET', `/api/v1/cards/${cards.a010}`)).status).toBe('lost');
    });
  });

  describe('files it cannot read', () => {
    let communityId: string;
    beforeAll(async () => {
      communityId = await createCommunity(api, '坏文件社区');
    });

    it('refuses a quote never closed, naming its line, and writes nothing', async () => {
      const res = await postCsv(communityId, 'ref,name\n1,张三\n2,"李四\n3,王五\n');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('line 3');
      expect((await residentsOf(communityId)).total).toBe(0);
    });

    it('refuses a header without the name column', async () => {
      const res = await postCsv(communityId, '编号,卡号\n1,04A1B2C3\n');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('姓名/name');
    });

    it('answers a body that is not sent as CSV with 415, saying which header to send', async () => {
      const res = await postCsv(communityId, JSON.stringify({ ref: 1 }), 'dryRun=true', 'application/json');
      expect(res.status).toBe(415);
      expect(res.body.error.message).toContain('Content-Type: text/csv');
    });

    it('refuses a file over 20 MB with 413', async () => {
      const res = await postCsv(communityId, 'ref,name\n' + '1,张三\n'.repeat(2_700_000));
      expect(res.status).toBe(413);
      expect(res.body.error.message).toContain('20 MB');
      expect((await residentsOf(communityId)).total).toBe(0);
    });

    it('reads LF line endings without a BOM', async () => {
      const res = await postCsv(communityId, 'ref,name\nL1,林一\nL2,林二', 'dryRun=true');
      expect(res.body).toMatchObject({ created: 2, rejected: 0 });
    });
  });

  describe('a big file', () => {
    it('runs as a job: 202 with an import id, progress, then the report', async () => {
      const communityId = await createCommunity(api, '大社区');
      const rows = Array.from({ length: 2_500 }, (_, i) => {
        const n = String(i + 1).padStart(5, '0');
        return `R${n},居民${n},${(i % 10) + 1}号楼,${(i % 10) + 1}-1-${(i % 50) + 101},,${i % 2 === 0 ? newCardUid() : ''}`;
      });
      const file = ['编号,姓名,楼栋,户,电话,卡号', ...rows].join('\r\n');
      const res = await postCsv(communityId, file);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ state: 'running', rowsTotal: 2_500, dryRun: false });
      const importId = res.body.importId as string;

      const job = await eventually(
        async () => {
          const status = await api.ok('GET', `/api/v1/imports/${importId}`);
          expect(status.rowsDone).toBeLessThanOrEqual(status.rowsTotal);
          return status.state === 'running' ? undefined : status;
        },
        90_000,
        'the import to finish',
      );
      expect(job).toMatchObject({ state: 'done', rowsDone: 2_500, rowsTotal: 2_500, error: null });
      expect(job.result).toMatchObject({ created: 2_500, rejected: 0, cardsBound: 1_250, buildingsCreated: 10 });
      const { residents, total } = await residentsOf(communityId);
      expect(total).toBe(2_500);
      expect(cardCount(residents)).toBe(1_250);
      expect((await api.request('GET', '/api/v1/imports/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });
  });
});
