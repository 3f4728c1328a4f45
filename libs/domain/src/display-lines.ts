import type { AckReason, Display } from '../../protocol/src';
import { maskName } from './registry/mask-name';

/**
 * The short lines a device shows as they are (it knows nothing of points rules).
 * Chinese first, English too; each tells the resident what to do next.
 */
export const REASON_DISPLAY: Readonly<Record<AckReason, Display>> = {
  'unknown-card': { zh: '卡未登记，请到服务台登记', en: 'Card not registered: please register at the desk' },
  'card-blocked': { zh: '此卡已挂失，请到服务台补卡', en: 'Card blocked: please see the desk for a new one' },
  'cap-reached': { zh: '今日积分已达上限', en: 'Daily points limit reached' },
  'no-open-activity': { zh: '此处当前没有进行中的活动', en: 'No activity is open here now' },
  'already-checked-in': { zh: '已签到，无需重复', en: 'Already checked in' },
  'invalid-event': { zh: '数据有误，请联系工作人员', en: 'Invalid record: please tell staff' },
  'device-inactive': { zh: '设备已停用，请联系工作人员', en: 'Device disabled: please tell staff' },
  'unknown-device': { zh: '设备未登记，请联系工作人员', en: 'Device not registered: please tell staff' },
  'too-late': { zh: '记录已过期，请到服务台处理', en: 'Record too old: please see the desk' },
  'needs-review': { zh: '积分待审核', en: 'Points pending review' },
  'unsupported-event': { zh: '此设备不支持该操作', en: 'Not supported on this device' },
  'no-items': { zh: '未识别到电池，请重新投放', en: 'No batteries counted: please try again' },
  'unknown-battery-kind': { zh: '电池种类无法识别，请联系工作人员', en: 'Unknown battery kind: please tell staff' },
  'invalid-count': { zh: '电池数量有误，请联系工作人员', en: 'Battery count is wrong: please tell staff' },
  'invalid-weight': { zh: '称重有误，请联系工作人员', en: 'Weighing failed: please tell staff' },
  'clock-ahead': { zh: '设备时间有误，请联系工作人员', en: 'Device clock is wrong: please tell staff' },
  'capacity-reached': { zh: '活动人数已满，请联系工作人员', en: 'The activity is full: please see the organiser' },
};

export function creditedDisplay(points: number, balance: number): Display {
  return { zh: `+${points} 积分，余额 ${balance}`, en: `+${points} points, balance ${balance}` };
}

/** With a name (a counter reader identifying the resident), the name masked: 张*丰, A***e. */
export function balanceDisplay(balance: number, name?: string): Display {
  if (name === undefined) return { zh: `余额 ${balance} 积分`, en: `Balance ${balance} points` };
  const masked = maskName(name);
  return { zh: `${masked} 余额 ${balance} 积分`, en: `${masked}: balance ${balance} points` };
}

/** Credited up to the cap (possibly 0): the batteries still count. */
export function capReachedDisplay(points: number, balance: number): Display {
  return { zh: `已达积分上限，本次 +${points}，余额 ${balance}`, en: `Points limit reached: +${points}, balance ${balance}` };
}

/** A full bin still takes deposits (the batteries are inside): the resident is told, and staff have an alert. */
export function withBinFull(display: Display): Display {
  return { zh: `${display.zh}；箱已满，请联系工作人员`, en: `${display.en}. Bin full: please tell staff` };
}

export function collectionDisplay(): Display {
  return { zh: '清运已记录', en: 'Collection recorded' };
}

export function needsReviewDisplay(points: number): Display {
  return { zh: `${points} 积分待审核，审核后到账`, en: `${points} points pending review` };
}

export function pendingUnknownCardDisplay(points: number): Display {
  const base = REASON_DISPLAY['unknown-card'];
  return { zh: `${base.zh}，可领 ${points} 积分`, en: `${base.en} to claim ${points} points` };
}
