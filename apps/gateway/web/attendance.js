// Live attendance of one activity: who is in, who has left, the counts, refreshed
// from the gateway's server-sent events without reloading the page.
import { api, lang, setLang, signIn, stream, text, token } from './lib/jifen.js';

const $ = (id) => document.getElementById(id);
const T = {
  title: { zh: '活动签到', en: 'Activity attendance' },
  home: { zh: '首页', en: 'Home' },
  community: { zh: '社区编号', en: 'Community id' },
  day: { zh: '日期', en: 'Day' },
  choose: { zh: '— 选择活动 —', en: '— choose an activity —' },
  none: { zh: '这一天没有活动', en: 'No activities that day' },
  in: { zh: '在场', en: 'In' },
  out: { zh: '已离开', en: 'Left' },
  total: { zh: '签到人数', en: 'Checked in' },
  pending: { zh: '待审核', en: 'Pending review' },
  export: { zh: '导出 CSV', en: 'Export CSV' },
  live: { zh: '实时', en: 'live' },
  reconnecting: { zh: '重新连接中…', en: 'reconnecting…' },
  name: { zh: '姓名', en: 'Name' },
  checkedIn: { zh: '签到', en: 'Checked in' },
  checkedOut: { zh: '签退', en: 'Checked out' },
  minutes: { zh: '时长(分钟)', en: 'Minutes' },
  points: { zh: '积分', en: 'Points' },
  closed: { zh: '（活动结束时关闭）', en: ' (closed at the end)' },
};

let live = null;
let timeZone = 'Asia/Shanghai';

function fmt(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(lang() === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(iso));
}

function table(el, rows, withOut) {
  const head = [T.name, T.checkedIn, ...(withOut ? [T.checkedOut, T.minutes] : []), T.points].map((h) => `<th>${text(h)}</th>`).join('');
  el.innerHTML = `<thead><tr>${head}</tr></thead>`;
  const body = document.createElement('tbody');
  for (const r of rows) {
    const tr = document.createElement('tr');
    tr.dataset.resident = r.residentId;
    const cells = [r.residentName + (r.status === 'closed' ? text(T.closed) : ''), fmt(r.checkedInAt)];
    if (withOut) cells.push(fmt(r.checkedOutAt), String(r.minutes));
    cells.push(r.pendingPoints > 0 ? `${r.points} (${text(T.pending)} ${r.pendingPoints})` : String(r.points));
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    body.append(tr);
  }
  el.append(body);
}

function render(sheet) {
  timeZone = sheet.timezone;
  $('sheet').hidden = false;
  $('activity-title').textContent = `${sheet.activity.title} · ${fmt(sheet.activity.startsAt)}–${fmt(sheet.activity.endsAt)}`;
  $('count-in').textContent = sheet.counts.in;
  $('count-out').textContent = sheet.counts.out + sheet.counts.closed;
  $('count-total').textContent = sheet.counts.total;
  $('count-pending').textContent = sheet.counts.pendingReview;
  table(
    $('in'),
    sheet.attendance.filter((a) => a.status === 'in'),
    false,
  );
  table(
    $('out'),
    sheet.attendance.filter((a) => a.status !== 'in'),
    true,
  );
}

function follow(activityId) {
  live?.stop();
  $('sheet').hidden = true;
  if (!activityId) return;
  const url = new URL(location.href);
  url.searchParams.set('activity', activityId);
  history.replaceState(null, '', url);
  const exportLink = $('export');
  exportLink.hidden = false;
  exportLink.onclick = async (e) => {
    // The CSV needs the token too: fetched, then saved from a blob.
    e.preventDefault();
    const res = await fetch(`/api/v1/activities/${activityId}/attendance/export`, { headers: { Authorization: `Bearer ${token()}` } });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await res.blob());
    a.download = `attendance-${activityId}.csv`;
    a.click();
  };
  live = stream(`/api/v1/activities/${activityId}/attendance/stream`, (name, data) => name === 'attendance' && render(data), {
    onState: (s) => {
      $('state').textContent = text(T[s] ?? { zh: s, en: s });
      $('state').className = s;
    },
  });
}

async function loadActivities(selected) {
  $('error').textContent = '';
  const communityId = $('community').value.trim();
  const select = $('activity');
  select.innerHTML = '';
  if (!communityId) return;
  const day = $('day').value;
  const from = new Date(`${day}T00:00:00`);
  const to = new Date(from.getTime() + 24 * 3600 * 1000);
  try {
    const { activities } = await api(
      `/api/v1/activities?communityId=${encodeURIComponent(communityId)}&from=${from.toISOString()}&to=${to.toISOString()}`,
    );
    select.append(new window.Option(text(activities.length ? T.choose : T.none), ''));
    for (const a of activities) select.append(new window.Option(`${fmt(a.startsAt)} ${a.title}`, a.id, false, a.id === selected));
    if (selected && !activities.some((a) => a.id === selected)) select.append(new window.Option(selected, selected, true, true));
  } catch (err) {
    $('error').textContent = err.message;
  }
}

const me = await signIn();
document.title = `${text(T.title)} · jifen`;
$('title').textContent = text(T.title);
$('home').textContent = text(T.home);
$('lang').textContent = lang() === 'zh' ? 'English' : '中文';
$('lang').onclick = () => setLang(lang() === 'zh' ? 'en' : 'zh');
for (const k of ['community', 'day', 'in', 'out', 'total', 'pending']) $(`l-${k}`).textContent = text(T[k]);
$('h-in').textContent = text(T.in);
$('h-out').textContent = text(T.out);
$('export').textContent = text(T.export);
const params = new URLSearchParams(location.search);
$('community').value = params.get('community') ?? me.communityId ?? '';
$('day').value = params.get('day') ?? new Date().toLocaleDateString('sv-SE');
$('community').onchange = () => loadActivities();
$('day').onchange = () => loadActivities();
$('activity').onchange = () => follow($('activity').value);
document.querySelector('main').hidden = false;
const initial = params.get('activity');
await loadActivities(initial);
if (initial) follow(initial);
