/**
 * A name as a clerk may show it to whoever holds a found card: the first
 * character, and the last for names of three or more, e.g. 张三 -> 张*,
 * 欧阳娜娜 -> 欧**娜, Alice -> A***e. Counts characters, not UTF-16 units.
 */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length === 0) return '';
  if (chars.length === 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}
