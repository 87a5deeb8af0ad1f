// The lobby panel: the rooms we are in (with unread counts), every room in the cluster (with its
// host, whether that host is up, and unread counts of rooms we are in elsewhere), refreshing that list, and creating a room.

import { escapeHtml } from '../format';
import type { GlobalRoomsList, RoomSummary } from '../protocol';
import { ui } from './dom';
import { notify } from './notices';
import { logs, page, unread } from './page-state';
import { showRoom } from './navigation';

export function initLobby(): void {
  ui.joinedList.addEventListener('click', onRoomClick);
  ui.roomList.addEventListener('click', onRoomClick);

  ui.refresh.addEventListener('click', () => {
    page.session?.discover().catch((err: Error) => notify('error', `Could not list rooms: ${err.message}`));
  });

  ui.createForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!page.session) return;
    const name = ui.roomName.value.trim();
    const desc = ui.roomDescInput.value.trim();
    if (!name) return;
    const btn = ui.createForm.querySelector('button')!;
    btn.disabled = true;
    try {
      const created = await page.session.createRoom(name, desc || null, ui.roomPrivate.checked);
      ui.roomName.value = '';
      ui.roomDescInput.value = '';
      ui.roomPrivate.checked = false;
      notify('success', `Room “${created.room_name}” created on ${created.admin_node}.`);
      await joinRoom(created.room_id, {
        room_id: created.room_id,
        room_name: created.room_name,
        description: desc || null,
        admin_node: created.admin_node,
        creator_id: page.session.username,
        member_count: 0,
      });
      page.session.discover().catch(() => undefined);
    } catch (err) {
      notify('error', `Could not create the room: ${(err as Error).message}`);
    } finally {
      btn.disabled = false;
    }
  });
}

export function renderRoomList(list: GlobalRoomsList): void {
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
      const mine = page.session?.rooms.get(r.room_id);
      const joined = !!mine;
      const count = mine && mine.status === 'joined' ? mine.members.size : Number(r.member_count);
      // a room we are in through another tab or device: the server's count of what we have not read there
      const unreadElsewhere = !joined && typeof r.unread_count === 'number' && r.unread_count > 0 ? r.unread_count : 0;
      return (
        `<li><button type="button" class="room-item${hostDown ? ' down' : ''}${r.room_id === page.current ? ' current' : ''}" data-room="${escapeHtml(r.room_id)}">` +
        `<span class="name">${escapeHtml(r.room_name)}</span>` +
        (joined ? '<span class="badge">joined</span>' : '') +
        (r.direct ? '<span class="badge">direct</span>' : r.private ? '<span class="badge">private</span>' : '') +
        (unreadElsewhere ? `<span class="badge unread" title="unread">${unreadElsewhere}</span>` : '') +
        (hostDown ? '<span class="badge bad">host down</span>' : '') +
        (r.description ? `<span class="desc">${escapeHtml(r.description)}</span>` : '') +
        `<span class="info">host ${escapeHtml(r.admin_node)} · ${count} member${count === 1 ? '' : 's'}</span>` +
        `</button></li>`
      );
    })
    .join('');
}

/** The rooms we are in, the page title's unread count, and the cluster list (for its badges). */
export function renderJoined(): void {
  const session = page.session;
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
          `<li><button type="button" class="room-item${r.id === page.current ? ' current' : ''}" data-room="${escapeHtml(r.id)}">` +
          `<span class="name">${escapeHtml(r.name)}</span>${state}${n ? `<span class="badge unread">${n}</span>` : ''}` +
          `</button></li>`
        );
      })
      .join('');
  }
  if (session?.lastRoomsList) renderRoomList(session.lastRoomsList);
}

export async function joinRoom(id: string, summary?: RoomSummary): Promise<void> {
  const session = page.session;
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

function onRoomClick(e: Event): void {
  const btn = (e.target as HTMLElement).closest<HTMLElement>('[data-room]');
  const session = page.session;
  if (!btn || !session) return;
  const id = btn.dataset.room!;
  if (session.rooms.has(id)) {
    showRoom(id);
    return;
  }
  const summary = session.lastRoomsList?.rooms.find((r) => r.room_id === id);
  void joinRoom(id, summary);
}
