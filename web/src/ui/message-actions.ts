// Acting on the messages shown: Edit and Delete on our own (Delete on every message of a room we
// created), the composer as the editor (Enter saves, Escape cancels, Up in an empty box edits our
// last message), redrawing a message another member's edit or deletion changed, and the
// "is typing" line.

import { typingText } from '../format';
import { messageHtml, type RenderOptions } from '../render';
import type { MessageChange, RoomState } from '../session/chat-session';
import { ui } from './dom';
import { notify } from './notices';
import { logFor, page, roomShown } from './page-state';

/** The message the composer is editing, if any. */
let editing: { roomId: string; messageId: string } | null = null;

export function initMessageActions(): void {
  ui.messages.addEventListener('click', (e) => {
    const button = (e.target as HTMLElement).closest('button');
    if (button?.dataset.edit) startEdit(button.dataset.edit);
    if (button?.dataset.delete) armOrDelete(button, button.dataset.delete);
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && editing) {
      e.preventDefault();
      cancelEdit();
    } else if (e.key === 'ArrowUp' && !editing && ui.input.value === '') {
      const last = [...logFor(page.current ?? '').querySelectorAll<HTMLElement>('li.msg.mine:not(.deleted):not(.pending)')].pop();
      if (last?.dataset.id) {
        e.preventDefault();
        startEdit(last.dataset.id);
      }
    }
  });
  ui.input.addEventListener('input', () => {
    if (page.current && !editing && ui.input.value.trim() !== '') page.session?.typing(page.current);
  });
  ui.cancelEdit.addEventListener('click', cancelEdit);
}

/** How messages of `room` are drawn for this user. */
export function renderOptions(room: RoomState): RenderOptions {
  const self = page.session?.username ?? '';
  // a direct conversation's two people are equals: neither deletes the other's messages
  return { self, roomCreator: room.direct ? null : room.creatorId, moderator: !room.direct && room.moderators.has(self) };
}

export function isEditing(): boolean {
  return editing !== null;
}

/** Saves the composer's text as the edited message's new text. */
export async function saveEdit(text: string): Promise<void> {
  const target = editing;
  if (!page.session || !target) return;
  cancelEdit();
  try {
    await page.session.editMessage(target.roomId, target.messageId, text);
  } catch (err) {
    notify('error', `Could not edit the message: ${(err as Error).message}`);
  }
}

export function cancelEdit(): void {
  if (editing) messageItem(editing.roomId, editing.messageId)?.classList.remove('being-edited');
  editing = null;
  ui.editing.hidden = true;
  ui.input.value = '';
  ui.input.dispatchEvent(new Event('input'));
}

/** Redraws a message an edit or deletion changed (wherever it is shown, the room on screen or not). */
export function applyChange(room: RoomState, change: MessageChange): void {
  const item = messageItem(room.id, change.message_id);
  if (!item) return; // not shown (yet): the history will bring it as it is now
  const timestamp = item.querySelector('time')?.getAttribute('datetime') ?? '';
  const wasEdited = editing?.messageId === change.message_id;
  item.outerHTML = messageHtml({ room_id: room.id, timestamp, ...change, content: change.content ?? '' }, renderOptions(room));
  if (wasEdited && change.deleted) {
    cancelEdit();
    notify('info', 'The message you were editing was deleted.');
  } else if (wasEdited) messageItem(room.id, change.message_id)?.classList.add('being-edited');
}

/** The "is typing" line of the room on screen. */
export function renderTyping(room: RoomState | null): void {
  ui.typing.textContent = room && room.id === page.current ? typingText([...room.typing].sort((a, b) => a.localeCompare(b))) : '';
}

function startEdit(messageId: string): void {
  const room = roomShown();
  const item = room ? messageItem(room.id, messageId) : null;
  if (!room || !item) return;
  if (editing) cancelEdit();
  editing = { roomId: room.id, messageId };
  item.classList.add('being-edited');
  ui.editing.hidden = false;
  ui.input.value = item.querySelector('.text')?.textContent ?? '';
  ui.input.dispatchEvent(new Event('input'));
  ui.input.focus();
}

/** Deleting takes two presses: the first arms the button for a few seconds. */
function armOrDelete(button: HTMLElement, messageId: string): void {
  const room = roomShown();
  if (!page.session || !room) return;
  if (!button.classList.contains('confirm')) {
    button.classList.add('confirm');
    button.textContent = 'Confirm delete';
    setTimeout(() => {
      button.classList.remove('confirm');
      button.textContent = 'Delete';
    }, 5000);
    return;
  }
  page.session.deleteMessage(room.id, messageId).catch((err: Error) => notify('error', `Could not delete the message: ${err.message}`));
}

function messageItem(roomId: string, messageId: string): HTMLElement | null {
  return logFor(roomId).querySelector<HTMLElement>(`li.msg[data-id="${CSS.escape(messageId)}"]`);
}
