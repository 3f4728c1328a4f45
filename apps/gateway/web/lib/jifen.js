// Shared by the gateway's web pages (plain ES modules, no framework, no build step):
// the staff token (kept for this browser tab only), calls to the admin API,
// live updates over server-sent events, and Chinese/English text.

const TOKEN_KEY = 'jifen.token';
const LANG_KEY = 'jifen.lang';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

/** Calls the admin API with the tab's token; errors carry the API's code and message. */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'http-error', data?.error?.message ?? `${res.status} ${res.statusText}`);
  return data;
}

/**
 * Follows a server-sent-events endpoint with the token in a header (EventSource
 * cannot send one); reconnects with backoff until `stop()` is called.
 * onEvent receives (eventName, parsedData).
 */
export function stream(path, onEvent, { onState = () => {} } = {}) {
  let stopped = false;
  let controller;
  let delay = 1000;
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(path, {
          headers: { Authorization: `Bearer ${token()}`, Accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!res.ok || !res.body) throw new Error(`${res.status}`);
        onState('live');
        delay = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let name = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) name = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            }
            if (data.length) onEvent(name, JSON.parse(data.join('\n')));
          }
        }
      } catch {
        if (stopped) return;
      }
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30000);
    }
  };
  void run();
  return { stop: () => ((stopped = true), controller?.abort()) };
}

export function lang() {
  return localStorage.getItem(LANG_KEY) ?? (navigator.language.startsWith('zh') ? 'zh' : 'en');
}

export function setLang(l) {
  localStorage.setItem(LANG_KEY, l);
  location.reload();
}

/** text({ zh: '…', en: '…' }) in the page's language. */
export function text(pair) {
  return pair[lang()] ?? pair.en;
}

/**
 * Makes sure the tab has a working staff token: shows a login form (token
 * field) until GET /api/v1/me accepts one. Resolves with { name, role, communityId }.
 */
export async function signIn(root = document.body) {
  if (token()) {
    try {
      return await api('/api/v1/me');
    } catch {
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }
  return new Promise((resolve) => {
    const form = document.createElement('form');
    form.className = 'jifen-login';
    form.innerHTML = `
      <h1>${text({ zh: '积分管理 登录', en: 'jifen sign in' })}</h1>
      <label>${text({ zh: '访问令牌', en: 'Access token' })} <input name="token" type="password" autocomplete="off" required></label>
      <button type="submit">${text({ zh: '登录', en: 'Sign in' })}</button>
      <p class="error" role="alert"></p>`;
    root.prepend(form);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, form.elements.token.value.trim());
      try {
        const me = await api('/api/v1/me');
        form.remove();
        resolve(me);
      } catch (err) {
        sessionStorage.removeItem(TOKEN_KEY);
        form.querySelector('.error').textContent =
          err.status === 401 ? text({ zh: '令牌无效或已停用', en: 'This token is not valid or has been switched off' }) : err.message;
      }
    });
  });
}
