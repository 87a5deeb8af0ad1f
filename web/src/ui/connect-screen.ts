// The connect screen: pick a name and a node (prefilled from the URL and the last visit), start a
// session; and logging out back to it.

import { MAX_USERNAME, nameProblem, normalizeName } from '../protocol';
import { nodesFromCluster, normalizeNode, parseNodeList, tokenSubject } from '../reconnect';
import { ChatSession, type SocketLike } from '../session/chat-session';
import { setConn } from './connection-indicator';
import { ui } from './dom';
import { renderJoined } from './lobby';
import { page, resetPage } from './page-state';
import { showRoom } from './room-view';
import { forgetSession, loadSavedSession, rejoinWhenOpen } from './saved-session';
import { onSessionEvent } from './session-view';

/** After a reload: connects again as before and re-joins the rooms this tab was in. Else false. */
export function restoreSession(): boolean {
  const saved = loadSavedSession();
  if (!saved) return false;
  rejoinWhenOpen(saved);
  start(saved.username, saved.nodes, saved.token);
  return true;
}

/** Fills the form from ?node=&nodes=&user=&token=, the page's own host, and the name used last time. */
export function prefill(): void {
  const q = new URLSearchParams(location.search);
  const token = q.get('token')?.trim() ?? '';
  if (token) {
    ui.token.value = token;
    // the token is a credential: keep it out of the address bar, history and bookmarks
    q.delete('token');
    history.replaceState(null, '', `${location.pathname}${q.size > 0 ? `?${q}` : ''}${location.hash}`);
  }
  const here = location.host;
  const listed = parseNodeList(q.get('nodes') ?? '');
  const node = normalizeNode(q.get('node') ?? '') ?? (here || listed[0] || '');
  ui.node.value = node;
  ui.nodes.value = listed.filter((n) => n !== node).join(', ');
  ui.username.value = (token && tokenSubject(token)) || (q.get('user') ?? localStorage.getItem('chat.username') ?? '');
  ui.token.addEventListener('input', () => {
    const subject = tokenSubject(ui.token.value.trim());
    if (subject) ui.username.value = subject;
  });
}

export function initConnectScreen(): void {
  ui.connectForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = normalizeName(ui.username.value);
    const token = ui.token.value.trim() || undefined;
    const subject = token ? tokenSubject(token) : null;
    const problem = token && !subject ? 'That token does not look like a chat token (it names no user).' : subject && normalizeName(subject) !== name ? `That token is for '${subject}'.` : usernameProblem(name);
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
    start(name, nodes, token);
  });

  ui.logout.addEventListener('click', () => {
    page.session?.close();
    forgetSession();
    resetPage();
    ui.app.hidden = true;
    ui.logout.hidden = true;
    ui.who.textContent = '';
    ui.connectView.hidden = false;
    setConn('closed', 'not connected');
    ui.roomList.replaceChildren();
    renderJoined();
    ui.username.focus();
  });
}

/** The node's own name rules (src/common/protocol/chat-names.ts), so the page refuses what the node would. */
function usernameProblem(name: string): string | null {
  if (name === '') return 'Enter a name.';
  const problem = nameProblem(name, MAX_USERNAME, 'Your name');
  return problem && `${problem}.`;
}

function start(username: string, nodes: string[], token?: string): void {
  const session = new ChatSession({
    username,
    nodes,
    token,
    secure: location.protocol === 'https:',
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    discoverNodes: async (node) => {
      const res = await fetch(`${location.protocol === 'https:' ? 'https' : 'http'}://${node}/cluster`, { signal: AbortSignal.timeout(5000) });
      return res.ok ? nodesFromCluster(await res.json()) : [];
    },
    onEvent: onSessionEvent,
  });
  page.session = session;
  ui.connectView.hidden = true;
  ui.app.hidden = false;
  ui.logout.hidden = false;
  ui.who.textContent = username;
  showRoom(null);
  session.connect();
}
