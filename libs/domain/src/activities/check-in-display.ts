import type { Display } from '../../../protocol/src';
import { maskName } from '../registry/mask-name';
import type { NoActivityDetail, TapDecision } from './check-in';

/** Display lines hold at most 120 characters: long titles are cut. */
function shortTitle(title: string): string {
  const chars = Array.from(title);
  return chars.length <= 24 ? title : `${chars.slice(0, 23).join('')}…`;
}

function hoursText(minutes: number): { zh: string; en: string } {
  const hours = Math.round((minutes / 60) * 100) / 100;
  return { zh: `${hours} 小时`, en: `${hours} h` };
}

/**
 * What a terminal shows after a tap: the resident's masked name, the activity and
 * the points (pending ones say so). Chinese first, English too.
 */
export function tapDisplay(decision: TapDecision, name: string | undefined, isPending: boolean): Display {
  const who = name ? maskName(name) : '';
  const whoZh = who ? `${who} ` : '';
  const whoEn = who ? `${who}: ` : '';
  if (decision.kind === 'refused') {
    const title = decision.activity ? shortTitle(decision.activity.title) : '';
    switch (decision.reason) {
      case 'already-checked-in':
        return { zh: `${whoZh}已签到「${title}」，无需重复`, en: `${whoEn}already checked in to "${title}"` };
      case 'capacity-reached':
        return { zh: `「${title}」人数已满，请联系工作人员`, en: `"${title}" is full: please see the organiser` };
      case 'no-open-activity':
        return noActivityDisplay(decision.detail ?? 'none');
    }
  }
  const title = shortTitle(decision.activity.title);
  const pts = decision.pointsAdded;
  const pointsZh = isPending ? `${pts} 积分待审核` : `+${pts} 积分`;
  const pointsEn = isPending ? `${pts} points pending review` : `+${pts} points`;
  if (decision.kind === 'checked-in' && decision.activity.policy.kind === 'hours') {
    return { zh: `${whoZh}签到成功「${title}」，签退时计积分`, en: `${whoEn}checked in to "${title}"; points on check-out` };
  }
  if (decision.kind === 'checked-in' || decision.activity.policy.kind === 'attendance') {
    return { zh: `${whoZh}签到成功「${title}」，${pointsZh}`, en: `${whoEn}checked in to "${title}", ${pointsEn}` };
  }
  const h = hoursText(decision.attendance.minutes);
  if (decision.kind === 'check-in-moved') {
    return {
      zh: `${whoZh}签到已补记「${title}」，共 ${h.zh}，${pointsZh}`,
      en: `${whoEn}check-in recorded for "${title}", ${h.en}, ${pointsEn}`,
    };
  }
  return { zh: `${whoZh}签退「${title}」，共 ${h.zh}，${pointsZh}`, en: `${whoEn}checked out of "${title}", ${h.en}, ${pointsEn}` };
}

export function noActivityDisplay(detail: NoActivityDetail): Display {
  switch (detail) {
    case 'not-yet-open':
      return { zh: '签到尚未开始，请稍后再刷卡', en: 'Check-in has not opened yet: please tap again later' };
    case 'check-in-closed':
      return { zh: '签到已截止，请联系工作人员', en: 'Check-in has closed: please see the organiser' };
    case 'none':
      return { zh: '此处当前没有进行中的活动', en: 'No activity is open here now' };
  }
}
