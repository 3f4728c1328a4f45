/**
 * The activity category tree: top-level categories, each with sub-items. An
 * activity is filed under a sub-item. Haigang District's scheme (shared/DOMAIN.md)
 * has 10 categories and 28 sub-items; this default follows its headings and is
 * installed per community on request, then edited there.
 */
export interface CategoryNode {
  /** Stable within a community: `C03` for a category, `C03-02` for one of its sub-items. */
  code: string;
  nameZh: string;
  nameEn: string;
  children?: CategoryNode[];
}

const node = (code: string, nameZh: string, nameEn: string, children?: CategoryNode[]): CategoryNode =>
  children ? { code, nameZh, nameEn, children } : { code, nameZh, nameEn };

export const DEFAULT_CATEGORY_TREE: readonly CategoryNode[] = [
  node('C01', '社区建设', 'Community building', [
    node('C01-01', '社区议事', 'Community council meetings'),
    node('C01-02', '楼道自治', 'Stairwell self-management'),
    node('C01-03', '文明劝导', 'Civility persuasion'),
  ]),
  node('C02', '疫情防控', 'Epidemic prevention', [
    node('C02-01', '卡口值守', 'Checkpoint duty'),
    node('C02-02', '检测协助', 'Testing assistance'),
    node('C02-03', '防疫宣传', 'Prevention outreach'),
  ]),
  node('C03', '环境卫生', 'Sanitation', [
    node('C03-01', '垃圾分类', 'Waste sorting'),
    node('C03-02', '清洁家园', 'Neighbourhood clean-up'),
    node('C03-03', '电池回收', 'Battery recycling'),
  ]),
  node('C04', '矛盾调解', 'Mediation', [
    node('C04-01', '邻里纠纷调解', 'Neighbour dispute mediation'),
    node('C04-02', '家庭矛盾调解', 'Family mediation'),
  ]),
  node('C05', '志愿服务', 'Volunteer service', [
    node('C05-01', '助老助残', 'Help for the elderly and disabled'),
    node('C05-02', '关爱儿童', 'Care for children'),
    node('C05-03', '便民服务', 'Everyday help for neighbours'),
  ]),
  node('C06', '平安建设', 'Public safety', [
    node('C06-01', '治安巡逻', 'Safety patrol'),
    node('C06-02', '消防安全', 'Fire safety'),
    node('C06-03', '反诈宣传', 'Anti-fraud outreach'),
  ]),
  node('C07', '文体活动', 'Culture and sports', [
    node('C07-01', '文艺演出', 'Performances'),
    node('C07-02', '体育健身', 'Sports and fitness'),
    node('C07-03', '读书学习', 'Reading and learning'),
  ]),
  node('C08', '移风易俗', 'Civilised customs', [
    node('C08-01', '文明祭扫', 'Civilised remembrance'),
    node('C08-02', '婚事新办', 'Simple weddings'),
    node('C08-03', '节约粮食', 'Saving food'),
  ]),
  node('C09', '公益捐助', 'Charity', [node('C09-01', '爱心捐赠', 'Donations'), node('C09-02', '无偿献血', 'Blood donation')]),
  node('C10', '道德模范', 'Good deeds', [
    node('C10-01', '见义勇为', 'Brave deeds'),
    node('C10-02', '好人好事', 'Helping others'),
    node('C10-03', '孝老爱亲', 'Caring for family'),
  ]),
];

/** A tree flattened to rows, parents first: what a repository stores. */
export function flattenCategories(
  tree: readonly CategoryNode[],
): { code: string; parentCode: string | null; nameZh: string; nameEn: string; sort: number }[] {
  const rows: { code: string; parentCode: string | null; nameZh: string; nameEn: string; sort: number }[] = [];
  tree.forEach((c, i) => {
    rows.push({ code: c.code, parentCode: null, nameZh: c.nameZh, nameEn: c.nameEn, sort: i });
    (c.children ?? []).forEach((s, j) => rows.push({ code: s.code, parentCode: c.code, nameZh: s.nameZh, nameEn: s.nameEn, sort: j }));
  });
  return rows;
}
