// The ops page (issue #6): fleet at a glance, live updates over SSE, device detail
// with uPlot charts and status history, alerts with acknowledge/resolve, command
// buttons. Plain DOM, no framework; every device-supplied string goes in as text.
import { api, lang, setLang, signIn, stream, text } from './lib/jifen.js';

const T = {
  title: { zh: '设备运维', en: 'Device operations' },
  community: { zh: '社区', en: 'Community' },
  site: { zh: '站点', en: 'Site' },
  kind: { zh: '类型', en: 'Kind' },
  state: { zh: '状态', en: 'Status' },
  device: { zh: '设备', en: 'Device' },
  fill: { zh: '满溢', en: 'Fill' },
  lastSeen: { zh: '最后活动', en: 'Last seen' },
  alerts: { zh: '告警', en: 'Alerts' },
  openAlerts: { zh: '未处理告警', en: 'Open alerts' },
  all: { zh: '全部', en: 'All' },
  online: { zh: '在线', en: 'Online' },
  offline: { zh: '离线', en: 'Offline' },
  unknown: { zh: '未知', en: 'Unknown' },
  bin: { zh: '回收箱', en: 'Bin' },
  terminal: { zh: '签到终端', en: 'Check-in terminal' },
  counter: { zh: '柜台读卡器', en: 'Counter reader' },
  acknowledge: { zh: '确认', en: 'Acknowledge' },
  resolve: { zh: '解决', en: 'Resolve' },
  acknowledgedBy: { zh: '已确认', en: 'Acknowledged by' },
  noAlerts: { zh: '没有未处理的告警', en: 'No open alerts' },
  history: { zh: '状态记录', en: 'Status history' },
  telemetry: { zh: '遥测 (24 小时)', en: 'Telemetry (24 h)' },
  commands: { zh: '命令', en: 'Commands' },
  reboot: { zh: '重启', en: 'Reboot' },
  showMessage: { zh: '显示消息', en: 'Show message' },
  openDoor: { zh: '开门', en: 'Open door' },
  messagePrompt: { zh: '要显示的消息', en: 'Message to show' },
  sent: { zh: '已下发', en: 'Queued' },
  close: { zh: '关闭', en: 'Close' },
  power: { zh: '供电', en: 'Power' },
  signal: { zh: '信号', en: 'Signal' },
  temperature: { zh: '温度', en: 'Temperature' },
  firmware: { zh: '固件', en: 'Firmware' },
  faults: { zh: '故障', en: 'Faults' },
  outbox: { zh: '待发送', en: 'Outbox' },
  skew: { zh: '时钟偏差', en: 'Clock skew' },
  rates: { zh: '消息/分钟', en: 'Messages/min' },
  lastEvent: { zh: '最近事件', en: 'Last event' },
  never: { zh: '从未', en: 'never' },
  live: { zh: '实时', en: 'live' },
  reconnecting: { zh: '重新连接中', en: 'reconnecting' },
};
const t = (key) => text(T[key] ?? { zh: key, en: key });

const REASONS = {
  connected: { zh: '上线', en: 'connected' },
  activity: { zh: '恢复活动', en: 'activity' },
  will: { zh: '异常断开 (遗嘱)', en: 'last will' },
  timeout: { zh: '超时无消息', en: 'silence timeout' },
  'clean-disconnect': { zh: '正常断开', en: 'clean disconnect' },
  'credentials-revoked': { zh: '凭据已撤销', en: 'credentials revoked' },
};

const CAUSES = {
  offline: { zh: '离线', en: 'offline' },
  'fill-warn': { zh: '将满', en: 'nearly full' },
  'fill-full': { zh: '已满', en: 'full' },
  'low-power': { zh: '电量低', en: 'low power' },
  'outbox-backlog': { zh: '事件积压', en: 'outbox backlog' },
  'clock-skew': { zh: '时钟偏差', en: 'clock skew' },
  'auth-failures': { zh: '多次登录失败', en: 'repeated login failures' },
};
const causeText = (cause) =>
  cause.startsWith('fault:') ? `${text({ zh: '故障', en: 'fault' })} ${cause.slice(6)}` : text(CAUSES[cause] ?? { zh: cause, en: cause });

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof window.Node ? c : String(c));
  return node;
}

function ago(iso) {
  if (!iso) return t('never');
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return lang() === 'zh' ? `${s} 秒前` : `${s} s ago`;
  if (s < 3600) return lang() === 'zh' ? `${Math.floor(s / 60)} 分钟前` : `${Math.floor(s / 60)} min ago`;
  return new Date(iso).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB');
}

function gauge(fill) {
  if (typeof fill !== 'number') return '—';
  const cls = fill >= 95 ? 'gauge full' : fill >= 80 ? 'gauge warn' : 'gauge';
  return el(
    'span',
    {},
    el('span', { class: cls, title: `${fill}%` }, el('i', { style: `width:${Math.min(100, fill)}%` })),
    ` ${Math.round(fill)}%`,
  );
}

const badge = (state) => el('span', { class: `badge ${state}`, 'data-state': state }, t(state));

const state = { devices: new Map(), alerts: [], selected: null, chart: null };
const filters = () => Object.fromEntries([...new FormData(document.querySelector('#filters')).entries()].filter(([, v]) => v));

function option(value, label, selected) {
  const o = el('option', { value }, label);
  if (selected === value) o.selected = true;
  return o;
}

function fillSelect(name, values, label = (v) => v) {
  const select = document.querySelector(`#filters select[name=${name}]`);
  const current = select.value;
  select.replaceChildren(option('', t('all'), current), ...values.map((v) => option(v, label(v), current)));
}

async function loadFleet() {
  const query = new URLSearchParams(filters()).toString();
  const fleet = await api(`/api/v1/fleet${query ? `?${query}` : ''}`);
  state.devices = new Map(fleet.devices.map((d) => [d.id, d]));
  if (!state.communities) {
    state.communities = [...new Set(fleet.devices.map((d) => d.communityId))];
    fillSelect('communityId', state.communities, (id) => id.slice(0, 8));
    fillSelect('site', fleet.sites);
    fillSelect('kind', ['bin', 'terminal', 'counter'], t);
    fillSelect('state', ['online', 'offline', 'unknown'], t);
  }
  renderFleet();
}

function renderCounts() {
  const counts = { online: 0, offline: 0, unknown: 0 };
  for (const d of state.devices.values()) counts[d.state]++;
  const open = state.alerts.length;
  document
    .querySelector('#counts')
    .replaceChildren(
      ...['online', 'offline', 'unknown'].map((s) => el('div', { 'data-count': s }, el('b', {}, counts[s]), t(s))),
      el('div', { 'data-count': 'alerts' }, el('b', {}, open), t('openAlerts')),
    );
}

function renderRow(d) {
  return el(
    'tr',
    { 'data-device': d.id, onclick: () => showDetail(d.id) },
    el('td', {}, d.label ? `${d.label} (${d.id})` : d.id),
    el('td', {}, t(d.kind)),
    el('td', {}, d.site ?? '—'),
    el('td', {}, badge(d.state)),
    el('td', {}, gauge(d.telemetry?.fillPercent)),
    el('td', { title: d.lastSeenAt ?? '' }, ago(d.lastSeenAt)),
    el('td', {}, d.openAlerts > 0 ? el('b', { class: 'error' }, d.openAlerts) : '0'),
  );
}

function renderFleet() {
  const f = filters();
  const rows = [...state.devices.values()].filter((d) => !f.state || d.state === f.state).map(renderRow);
  document.querySelector('#fleet tbody').replaceChildren(...rows);
  renderCounts();
}

async function loadAlerts() {
  const { alerts } = await api('/api/v1/alerts?status=unresolved&limit=200');
  state.alerts = alerts;
  const openBy = new Map();
  for (const a of alerts) if (a.deviceId) openBy.set(a.deviceId, (openBy.get(a.deviceId) ?? 0) + 1);
  for (const d of state.devices.values()) d.openAlerts = openBy.get(d.id) ?? 0;
  renderAlerts();
  renderFleet();
}

async function alertAction(alert, action, button) {
  button.disabled = true;
  try {
    await api(`/api/v1/alerts/${alert.id}/${action}`, { method: 'POST' });
    await loadAlerts();
  } catch (err) {
    button.disabled = false;
    button.after(el('span', { class: 'error' }, ` ${err.message}`));
  }
}

function renderAlerts() {
  const list = document.querySelector('#alerts');
  if (state.alerts.length === 0) return list.replaceChildren(el('li', { class: 'empty' }, t('noAlerts')));
  list.replaceChildren(
    ...state.alerts.map((a) => {
      const ack = el('button', { type: 'button', 'data-action': 'acknowledge' }, t('acknowledge'));
      ack.onclick = () => alertAction(a, 'acknowledge', ack);
      const res = el('button', { type: 'button', 'data-action': 'resolve' }, t('resolve'));
      res.onclick = () => alertAction(a, 'resolve', res);
      return el(
        'li',
        {
          class: `${a.severity} ${a.status}`,
          'data-alert': a.id,
          'data-cause': a.cause,
          'data-subject': a.subject,
          'data-status': a.status,
        },
        el('div', {}, el('b', {}, a.subject), ' · ', causeText(a.cause)),
        el('div', {}, a.message),
        el('div', { class: 'meta' }, ago(a.openedAt), a.acknowledgedBy ? ` · ${t('acknowledgedBy')} ${a.acknowledgedBy}` : ''),
        el('div', {}, a.status === 'open' ? ack : null, ' ', res),
      );
    }),
  );
}

async function sendCommand(deviceId, name, params, out) {
  out.textContent = '…';
  out.className = 'result';
  try {
    await api(`/api/v1/devices/${encodeURIComponent(deviceId)}/commands`, {
      method: 'POST',
      body: { name, params, expiresInSeconds: 600 },
    });
    out.textContent = t('sent');
  } catch (err) {
    out.textContent = err.message;
    out.className = 'result error';
  }
}

function chart(container, samples) {
  state.chart?.destroy();
  state.chart = null;
  if (samples.length === 0 || !window.uPlot) return;
  const xs = samples.map((s) => Date.parse(s.bucketAt) / 1000);
  const series = [
    ['fillPercent', t('fill') + ' %', '#1565c0'],
    ['temperatureC', t('temperature') + ' °C', '#ef8f00'],
    ['batteryPercent', 'battery %', '#2e7d32'],
    ['outboxDepth', t('outbox'), '#8e24aa'],
  ].filter(([key]) => samples.some((s) => s[key] !== null));
  state.chart = new window.uPlot(
    {
      width: Math.min(900, container.clientWidth || 800),
      height: 220,
      series: [{}, ...series.map(([, label, stroke]) => ({ label, stroke, width: 2, spanGaps: true }))],
      axes: [{}, {}],
    },
    [xs, ...series.map(([key]) => samples.map((s) => s[key]))],
    container,
  );
}

async function showDetail(deviceId) {
  state.selected = deviceId;
  const panel = document.querySelector('#detail');
  const data = await api(`/api/v1/fleet/${encodeURIComponent(deviceId)}?hours=24`);
  const d = data.device;
  const tel = d.telemetry ?? {};
  const field = (key, value) => [el('dt', {}, t(key)), el('dd', {}, value ?? '—')];
  const out = el('span', { class: 'result' });
  const cmd = (name, key, params) =>
    el('button', { type: 'button', 'data-command': name, onclick: () => sendCommand(deviceId, name, params(), out) }, t(key));
  const plot = el('div', { class: 'chart' });
  panel.replaceChildren(
    el('h2', {}, d.label ? `${d.label} (${d.id})` : d.id, ' ', badge(d.state)),
    el(
      'dl',
      {},
      field('lastSeen', ago(d.lastSeenAt)),
      field('fill', typeof tel.fillPercent === 'number' ? `${tel.fillPercent}%` : null),
      field(
        'power',
        [tel.powerVolts !== undefined ? `${tel.powerVolts} V` : null, tel.batteryPercent !== undefined ? `${tel.batteryPercent}%` : null]
          .filter(Boolean)
          .join(' · ') || null,
      ),
      field('signal', tel.rssiDbm !== undefined ? `${tel.rssiDbm} dBm` : null),
      field('temperature', tel.temperatureC !== undefined ? `${tel.temperatureC} °C` : null),
      field('firmware', tel.firmware),
      field('faults', tel.faults?.length ? tel.faults.join(', ') : null),
      field('outbox', tel.outboxDepth),
      field('skew', d.clockSkewSeconds !== null ? `${d.clockSkewSeconds} s` : null),
      field('rates', `${d.messagesPerMinute}`),
      field('lastEvent', d.lastEvent ? `${d.lastEvent.result ?? ''} ${d.lastEvent.reason ?? ''} · ${ago(d.lastEvent.at)}` : null),
    ),
    el('h3', {}, t('telemetry')),
    plot,
    el(
      'div',
      { class: 'commands' },
      el('h3', {}, t('commands')),
      cmd('reboot', 'reboot', () => ({})),
      cmd('show-message', 'showMessage', () => ({ text: window.prompt(t('messagePrompt')) ?? '' })),
      cmd('open-door', 'openDoor', () => ({})),
      out,
    ),
    el('h3', {}, t('history')),
    el(
      'ul',
      { class: 'history' },
      data.statusHistory.map((c) =>
        el(
          'li',
          { 'data-reason': c.reason },
          new Date(c.at).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB'),
          ' ',
          badge(c.state),
          ' ',
          text(REASONS[c.reason] ?? { zh: c.reason, en: c.reason }),
        ),
      ),
    ),
    el('button', { type: 'button', onclick: () => ((panel.hidden = true), (state.selected = null)) }, t('close')),
  );
  panel.hidden = false;
  chart(plot, data.telemetry);
}

function onDevice(view) {
  const d = state.devices.get(view.deviceId);
  if (!d) return;
  Object.assign(d, {
    state: view.state,
    lastSeenAt: view.lastSeenAt,
    telemetry: view.telemetry,
    clockSkewSeconds: view.clockSkewSeconds,
    messagesPerMinute: view.messagesPerMinute,
    lastEvent: view.lastEvent,
  });
  document.querySelector(`#fleet tr[data-device="${window.CSS.escape(d.id)}"]`)?.replaceWith(renderRow(d));
  renderCounts();
  if (view.change && state.selected === d.id) void showDetail(d.id);
}

const uplotScript = new Promise((resolve) => {
  const s = el('script', { src: 'vendor/uplot/uPlot.iife.min.js' });
  s.onload = resolve;
  s.onerror = resolve;
  document.head.append(s);
});

const me = await signIn();
document.querySelectorAll('[data-t]').forEach((n) => (n.textContent = t(n.dataset.t)));
document.title = `${t('title')} · jifen`;
document.querySelector('#who').textContent = `${me.name} (${me.role})`;
document.querySelector('#lang').textContent = lang() === 'zh' ? 'English' : '中文';
document.querySelector('#lang').onclick = () => setLang(lang() === 'zh' ? 'en' : 'zh');
document.querySelector('#filters').addEventListener('change', () => void loadFleet().then(loadAlerts));
await loadFleet();
await loadAlerts();
document.querySelector('#ops').hidden = false;
await uplotScript;
const live = document.querySelector('#live');
stream(
  '/api/v1/fleet/stream',
  (name, data) => {
    if (name === 'device') onDevice(data);
    else if (name === 'alert') void loadAlerts();
  },
  {
    onState: (s) => {
      live.className = s === 'live' ? 'live on' : 'live';
      live.title = t(s);
      // After a reconnect the stream only has news: read the whole picture again.
      if (s === 'live') void loadFleet().then(loadAlerts);
    },
  },
);
// "Last seen" ages by itself.
setInterval(() => {
  for (const d of state.devices.values()) {
    const cell = document.querySelector(`#fleet tr[data-device="${window.CSS.escape(d.id)}"] td:nth-child(6)`);
    if (cell) cell.textContent = ago(d.lastSeenAt);
  }
}, 5000);
