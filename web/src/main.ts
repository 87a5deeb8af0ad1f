// Browser entry point: wires the DOM to ChatSession. All protocol logic lives in session.ts.

import { ChatSession, type RoomState, type SessionEvent, type SocketLike } from './session';
import { parseNodeList, normalizeNode } from './reconnect';
import { codePointLength, escapeHtml } from './format';
import { messageHtml, pendingHtml, systemHtml } from './render';
import { MAX_CONTENT, MAX_USERNAME, type GlobalRoomsList, type RoomSummary } from './protocol';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const ui = {
  conn: $('conn'),
  who: $('who'),
  logout: $<HTMLButtonElement>('logout'),
  connectView: $('connect-view'),
  connectForm: $<HTMLFormElement>('connect-form'),
  username: $<HTMLInputElement>('username'),
  node: $<HTMLInputElement>('node'),
  nodes: $<HTMLInputElement>('nodes'),
  connectError: $('connect-error'),
  app: $('app-view'),
  joinedList: $('joined-list'),
  roomList: $('room-list'),
  nodesStatus: $('nodes-status'),
  refresh: $<HTMLButtonElement>('refresh'),
  createForm: $<HTMLFormElement>('create-form'),
  roomName: $<HTMLInputElement>('room-name'),
  roomDescInput: $<HTMLInputElement>('room-desc-input'),
  roomView: $('room-view'),
  emptyView: $('empty-view'),
  back: $<HTMLButtonElement>('back'),
  roomTitle: $('room-title'),
  roomDesc: $('room-desc'),
  roomMeta: $('room-meta'),
  membersToggle: $<HTMLButtonElement>('members-toggle'),
  leave: $<HTMLButtonElement>('leave'),
  del: $<HTMLButtonElement>('delete'),
  banner: $('room-banner'),
  scroller: $('scroller'),
  loadOlder: $<HTMLButtonElement>('load-older'),
  messages: $('messages'),
  members: $('members'),
  membersTitle: $('members-title'),
  memberList: $('member-list'),
  composer: $<HTMLFormElement>('composer'),
  input: $<HTMLTextAreaElement>('message-input'),
  counter: $('counter'),
  notices: $('notices'),
};

let session: ChatSession | null = null;
let current: string | null = null; // room id shown
/** Rooms that were deleted/left while shown: keep their view (read-only) until the user moves on. */
let shownGone: RoomState | null = null;
const logs = new Map<string, HTMLOListElement>();
const unread = new Map<string, number>();

// ---- connect screen ----------------------------------------------------------------------

function prefill(): void {
  const q = new URLSearchParams(location.search);
  const here = location.host;
  const listed = parseNodeList(q.get('nodes') ?? '');
  const node = normalizeNode(q.get('node') ?? '') ?? (here || listed[0] || '');
  ui.node.value = node;
  ui.nodes.value = listed.filter((n) => n !== node).join(', ');
  ui.username.value = q.get('user') ?? localStorage.getItem('chat.username') ?? '';
}

ui.connectForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = ui.username.value.trim();
  const problem =
    name === ''
      ? 'Enter a name.'
      : codePointLength(name) > MAX_USERNAME
        ? `Names are at most ${MAX_USERNAME} characters.`
        : /[\u0000-\u001f\u007f]/.test(name)
          ? 'Names cannot contain control characters.'
          : null;
  const node = normalizeNode(ui.node.value);
  if (problem || !node) {
    ui.connectError.textContent = problem ?? 'Enter the node as host:port, e.g. 127.0.0.1:8080.';
    return;
  }
  ui.connectError.textContent = '';
  const nodes = [node, ...parseNodeList(ui.nodes.value).filter((n) => n !== node)];
  try {
    localStorage.setItem('chat.username', name);
  } catch {
    /* storage disabled */
  }
  start(name, nodes);
});

function start(username: string, nodes: string[]): void {
  session = new ChatSession({
    username,
    nodes,
    secure: location.protocol === 'https:',
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    onEvent,
  });
  ui.connectView.hidden = true;
  ui.app.hidden = false;
  ui.logout.hidden = false;
  ui.who.textContent = username;
  showRoom(null);
  session.connect();
}

ui.logout.addEventListener('click', () => {
  session?.close();
  session = null;
  current = null;
  shownGone = null;
  logs.clear();
  unread.clear();
  ui.app.hidden = true;
  ui.logout.hidden = true;
  ui.who.textContent = '';
  ui.connectView.hidden = false;
  setConn('closed', 'not connected');
  ui.roomList.replaceChildren();
  renderJoined();
  ui.username.focus();
});

// ---- session events ----------------------------------------------------------------------

function onEvent(ev: SessionEvent): void {
  switch (ev.kind) {
    case 'status':
      if (ev.status === 'open') setConn('open', `connected to ${ev.node}`);
      else if (ev.status === 'reconnecting')
        setConn('reconnecting', ev.delayMs !== undefined ? `reconnecting to ${ev.node}…` : `connecting to ${ev.node}…`);
      else if (ev.status === 'connecting') setConn('connecting', `connecting to ${ev.node}…`);
      else setConn('closed', 'not connected');
      {
        const room = roomShown();
        if (room) renderRoomHead(room);
      }
      updateComposer();
      return;
    case 'rooms':
      renderRoomList(ev.list);
      return;
    case 'room':
      renderJoined();
      if (ev.room.id === current) renderRoomHead(ev.room);
      if (ev.room.id === current) renderOutbox(ev.room);
      return;
    case 'messages': {
      const log = logFor(ev.room.id);
      const stick = ev.room.id !== current || nearBottom();
      log.insertAdjacentHTML('beforeend', ev.messages.map((m) => messageHtml(m, { self: session?.username ?? '' })).join(''));
      if (ev.room.id === current) {
        renderOutbox(ev.room);
        if (stick) scrollToBottom();
        renderLoadOlder(ev.room);
      } else {
        unread.set(ev.room.id, (unread.get(ev.room.id) ?? 0) + ev.messages.length);
        renderJoined();
      }
      return;
    }
    case 'older': {
      const log = logFor(ev.room.id);
      const before = ui.scroller.scrollHeight;
      const top = ui.scroller.scrollTop;
      log.insertAdjacentHTML('afterbegin', ev.messages.map((m) => messageHtml(m, { self: session?.username ?? '' })).join(''));
      if (ev.room.id === current) {
        ui.scroller.scrollTop = top + (ui.scroller.scrollHeight - before);
        renderLoadOlder(ev.room);
      }
      return;
    }
    case 'member': {
      const log = logFor(ev.room.id);
      const stick = ev.room.id === current && nearBottom();
      log.insertAdjacentHTML('beforeend', systemHtml(ev.text, ev.timestamp, { self: session?.username ?? '' }));
      if (ev.room.id === current) {
        renderOutbox(ev.room);
        if (stick) scrollToBottom();
      }
      return;
    }
    case 'notice':
      notify(ev.level, ev.text, ev.key);
      return;
    case 'gone':
      unread.delete(ev.room.id);
      if (ev.room.id === current) {
        shownGone = ev.room;
        renderRoomHead(ev.room);
        renderOutbox(ev.room);
      }
      if (ev.room.status === 'left' || ev.room.status === 'deleted') logs.delete(ev.room.id);
      renderJoined();
      return;
  }
}

function setConn(status: string, text: string): void {
  ui.conn.dataset.status = status;
  ui.conn.textContent = text;
}

// ---- notices -----------------------------------------------------------------------------

function notify(level: 'info' | 'success' | 'error', text: string, key?: string): void {
  // The same sentence twice (e.g. an event and a failed send saying the host is down), or a newer
  // notice on the same subject (unavailable -> available again): keep only the latest.
  for (const old of [...ui.notices.children] as HTMLElement[]) {
    if (old.querySelector('p')?.textContent === text || (key && old.dataset.key === key)) old.remove();
  }
  const el = document.createElement('div');
  if (key) el.dataset.key = key;
  el.className = `notice ${level}`;
  el.setAttribute('role', level === 'error' ? 'alert' : 'status');
  el.innerHTML = `<p>${escapeHtml(text)}</p><button type="button" aria-label="Dismiss">×</button>`;
  el.querySelector('button')!.addEventListener('click', () => el.remove());
  ui.notices.append(el);
  while (ui.notices.children.length > 4) ui.notices.firstElementChild!.remove();
  setTimeout(() => el.remove(), level === 'error' ? 10000 : 6000);
}

// ---- lobby -------------------------------------------------------------------------------

function renderRoomList(list: GlobalRoomsList): void {
  const down = new Set(list.nodes_unavailable ?? []);
  const avail = list.nodes_available ?? [];
  ui.nodesStatus.innerHTML =
    (avail.length ? `Nodes up: ${avail.map(escapeHtml).join(', ')}` : '') +
    (down.size ? `${avail.length ? ' · ' : ''}<span class="bad">unavailable: ${[...down].map(escapeHtml).join(', ')}</span>` : '');
  const rooms = [...list.rooms].sort((a, b) => a.room_name.localeCompare(b.room_name));
  if (rooms.length === 0) {
    ui.roomList.innerHTML = '<li class="empty">No rooms yet.</li>';
    return;
  }
  ui.roomList.innerHTML = rooms
    .map((r) => {
      const hostDown = down.has(r.admin_node);
      const mine = session?.rooms.get(r.room_id);
      const joined = !!mine;
      const count = mine && mine.status === 'joined' ? mine.members.size : Number(r.member_count);
      return (
        `<li><button type="button" class="room-item${hostDown ? ' down' : ''}${r.room_id === current ? ' current' : ''}" data-room="${escapeHtml(r.room_id)}">` +
        `<span class="name">${escapeHtml(r.room_name)}</span>` +
        (joined ? '<span class="badge">joined</span>' : '') +
        (hostDown ? '<span class="badge bad">host down</span>' : '') +
        (r.description ? `<span class="desc">${escapeHtml(r.description)}</span>` : '') +
        `<span class="info">host ${escapeHtml(r.admin_node)} · ${count} member${count === 1 ? '' : 's'}</span>` +
        `</button></li>`
      );
    })
    .join('');
}

function renderJoined(): void {
  const rooms = session ? [...session.rooms.values()] : [];
  const total = [...unread.values()].reduce((a, b) => a + b, 0);
  document.title = total ? `(${total}) Chat` : 'Chat';
  if (rooms.length === 0) {
    ui.joinedList.innerHTML = '<li class="empty">None yet: join or create one.</li>';
  } else {
    ui.joinedList.innerHTML = rooms
      .map((r) => {
        const n = unread.get(r.id) ?? 0;
        const state =
          r.status === 'unavailable'
            ? '<span class="badge bad">unavailable</span>'
            : r.status === 'removed'
              ? '<span class="badge bad">removed</span>'
              : r.deleting
                ? '<span class="badge bad">deleting</span>'
                : r.status === 'joining'
                  ? '<span class="badge">joining…</span>'
                  : '';
        return (
          `<li><button type="button" class="room-item${r.id === current ? ' current' : ''}" data-room="${escapeHtml(r.id)}">` +
          `<span class="name">${escapeHtml(r.name)}</span>${state}${n ? `<span class="badge unread">${n}</span>` : ''}` +
          `</button></li>`
        );
      })
      .join('');
  }
  if (session?.lastRoomsList) renderRoomList(session.lastRoomsList);
}

function onRoomClick(e: Event): void {
  const btn = (e.target as HTMLElement).closest<HTMLElement>('[data-room]');
  if (!btn || !session) return;
  const id = btn.dataset.room!;
  if (session.rooms.has(id)) {
    showRoom(id);
    return;
  }
  const summary = session.lastRoomsList?.rooms.find((r) => r.room_id === id);
  void joinRoom(id, summary);
}
ui.joinedList.addEventListener('click', onRoomClick);
ui.roomList.addEventListener('click', onRoomClick);

async function joinRoom(id: string, summary?: RoomSummary): Promise<void> {
  if (!session) return;
  logs.delete(id);
  try {
    const room = await session.join(id, {
      name: summary?.room_name,
      description: summary?.description,
      adminNode: summary?.admin_node,
      creatorId: summary?.creator_id,
    });
    showRoom(room.id);
    renderJoined();
  } catch (err) {
    notify('error', `Could not join “${summary?.room_name ?? id}”: ${(err as Error).message}`);
  }
}

ui.refresh.addEventListener('click', () => {
  session?.discover().catch((err: Error) => notify('error', `Could not list rooms: ${err.message}`));
});

ui.createForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!session) return;
  const name = ui.roomName.value.trim();
  const desc = ui.roomDescInput.value.trim();
  if (!name) return;
  const btn = ui.createForm.querySelector('button')!;
  btn.disabled = true;
  try {
    const created = await session.createRoom(name, desc || null);
    ui.roomName.value = '';
    ui.roomDescInput.value = '';
    notify('success', `Room “${created.room_name}” created on ${created.admin_node}.`);
    await joinRoom(created.room_id, {
      room_id: created.room_id,
      room_name: created.room_name,
      description: desc || null,
      admin_node: created.admin_node,
      creator_id: session.username,
      member_count: 0,
    });
    session.discover().catch(() => undefined);
  } catch (err) {
    notify('error', `Could not create the room: ${(err as Error).message}`);
  } finally {
    btn.disabled = false;
  }
});

// ---- room view ---------------------------------------------------------------------------

function logFor(id: string): HTMLOListElement {
  let log = logs.get(id);
  if (!log) {
    log = document.createElement('ol');
    log.className = 'log';
    logs.set(id, log);
  }
  return log;
}

function roomShown(): RoomState | null {
  if (!current || !session) return null;
  return session.rooms.get(current) ?? (shownGone?.id === current ? shownGone : null);
}

function showRoom(id: string | null): void {
  current = id;
  shownGone = null;
  ui.app.classList.toggle('in-room', id !== null);
  ui.members.classList.remove('open');
  ui.membersToggle.setAttribute('aria-expanded', 'false');
  const room = roomShown();
  ui.roomView.hidden = !room;
  ui.emptyView.hidden = !!room;
  renderJoined();
  if (!room) return;
  unread.delete(room.id);
  ui.messages.replaceChildren(logFor(room.id));
  renderRoomHead(room);
  renderOutbox(room);
  renderLoadOlder(room);
  scrollToBottom();
  ui.input.focus();
}

function renderRoomHead(room: RoomState): void {
  ui.roomTitle.textContent = room.name;
  ui.roomDesc.textContent = room.description ?? '';
  const members = [...room.members].sort((a, b) => a.localeCompare(b));
  ui.roomMeta.textContent = `host ${room.adminNode || '?'} · ${members.length} member${members.length === 1 ? '' : 's'}`;
  ui.membersTitle.textContent = `Members (${members.length})`;
  ui.membersToggle.textContent = `Members (${members.length})`;
  const me = session?.username;
  ui.memberList.innerHTML = members.map((m) => `<li${m === me ? ' class="me"' : ''}>${escapeHtml(m)}</li>`).join('');
  const gone = room.status === 'deleted' || room.status === 'left';
  ui.del.hidden = !(room.creatorId && room.creatorId === me) || gone;
  ui.del.disabled = room.deleting;
  ui.leave.hidden = gone;
  let banner = room.notice;
  let bad = room.status === 'unavailable' || room.status === 'removed' || room.status === 'deleted';
  if (!banner && room.status === 'joining' && session?.status !== 'open') banner = 'Connection lost: reconnecting…';
  if (!banner && room.status === 'deleted') banner = 'This room was deleted.';
  if (room.status === 'removed') {
    banner = `${room.notice ?? 'You were removed from this room.'} `;
  }
  ui.banner.hidden = !banner;
  ui.banner.textContent = banner ?? '';
  ui.banner.classList.toggle('bad', bad);
  if (room.status === 'removed') {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'ghost small';
    b.textContent = 'Join again';
    b.addEventListener('click', () => void joinRoom(room.id, undefined));
    ui.banner.append(b);
  }
  updateComposer();
}

function renderOutbox(room: RoomState): void {
  const log = logFor(room.id);
  log.querySelectorAll('.pending').forEach((el) => el.remove());
  if (room.outbox.size === 0) return;
  const me = session?.username ?? '';
  log.insertAdjacentHTML(
    'beforeend',
    [...room.outbox.values()].map((o) => pendingHtml(o.clientId, o.content, me, o.state === 'failed' ? o.error ?? 'Not sent.' : undefined)).join(''),
  );
}

function renderLoadOlder(room: RoomState): void {
  ui.loadOlder.hidden = !room.hasOlder;
  ui.loadOlder.disabled = room.loadingOlder;
}

function updateComposer(): void {
  const room = roomShown();
  const usable = !!room && (room.status === 'joined' || room.status === 'unavailable' || room.status === 'joining');
  ui.input.disabled = !usable;
  ui.composer.querySelector('button')!.disabled = !usable;
  ui.input.placeholder = !room
    ? ''
    : room.status === 'deleted'
      ? 'This room was deleted.'
      : room.status === 'removed'
        ? 'You are no longer in this room.'
        : 'Message (Enter to send)';
}

function nearBottom(): boolean {
  const s = ui.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

function scrollToBottom(): void {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}

async function loadOlder(): Promise<void> {
  const room = roomShown();
  if (!session || !room || !room.hasOlder || room.loadingOlder) return;
  ui.loadOlder.disabled = true;
  try {
    await session.loadOlder(room.id);
  } catch (err) {
    notify('error', `Could not load older messages: ${(err as Error).message}`);
  } finally {
    renderLoadOlder(room);
  }
}

ui.loadOlder.addEventListener('click', () => void loadOlder());
ui.scroller.addEventListener('scroll', () => {
  if (ui.scroller.scrollTop < 40) void loadOlder();
});

ui.back.addEventListener('click', () => showRoom(null));
ui.membersToggle.addEventListener('click', () => {
  const open = ui.members.classList.toggle('open');
  ui.membersToggle.setAttribute('aria-expanded', String(open));
});

ui.leave.addEventListener('click', () => {
  const room = roomShown();
  if (!session || !room) return;
  session.leave(room.id);
  notify('info', `You left “${room.name}”.`);
  showRoom(null);
});

let confirmTimer: ReturnType<typeof setTimeout> | undefined;
ui.del.addEventListener('click', () => {
  const room = roomShown();
  if (!session || !room) return;
  if (!ui.del.classList.contains('confirm')) {
    ui.del.classList.add('confirm');
    ui.del.textContent = 'Confirm delete';
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(resetDelete, 5000);
    return;
  }
  resetDelete();
  session.deleteRoom(room.id);
});
function resetDelete(): void {
  ui.del.classList.remove('confirm');
  ui.del.textContent = 'Delete';
}

ui.messages.addEventListener('click', (e) => {
  const t = e.target as HTMLElement;
  const room = roomShown();
  if (!session || !room) return;
  if (t.dataset.retry) session.retryMessage(room.id, t.dataset.retry, true);
  if (t.dataset.discard) session.retryMessage(room.id, t.dataset.discard, false);
});

// ---- composer ----------------------------------------------------------------------------

function sendCurrent(): void {
  const room = roomShown();
  if (!session || !room) return;
  const text = ui.input.value;
  if (text.trim() === '') return;
  const len = codePointLength(text);
  if (len > MAX_CONTENT) {
    notify('error', `Message too long: ${len} characters, the limit is ${MAX_CONTENT}.`);
    return;
  }
  try {
    session.sendMessage(room.id, text);
  } catch (err) {
    notify('error', (err as Error).message);
    return;
  }
  ui.input.value = '';
  onInput();
  scrollToBottom();
}

function onInput(): void {
  const len = codePointLength(ui.input.value);
  ui.counter.textContent = len > MAX_CONTENT - 500 ? `${len} / ${MAX_CONTENT}` : '';
  ui.counter.classList.toggle('over', len > MAX_CONTENT);
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight + 2, 240)}px`;
}

ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  sendCurrent();
});
ui.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    sendCurrent();
  }
});
ui.input.addEventListener('input', onInput);

// Back online (laptop lid, Wi-Fi): reconnect now instead of waiting for the backoff.
window.addEventListener('online', () => session?.reconnectNow());

prefill();
