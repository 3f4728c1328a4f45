import { maskName } from './mask-name';

describe('maskName', () => {
  it.each([
    ['张三', '张*'],
    ['李小明', '李*明'],
    ['欧阳娜娜', '欧**娜'],
    ['Alice', 'A***e'],
    ['王', '*'],
    ['  ', ''],
    ['𠮷野家', '𠮷*家'],
  ])('masks %s as %s', (name, masked) => {
    expect(maskName(name)).toBe(masked);
  });
});
