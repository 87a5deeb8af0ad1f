// The message box: enabled only while the room shown can take messages, a length counter near the
// limit, Enter to send (Shift+Enter for a new line), or to save the message being edited.

import { codePointLength } from '../format';
import { MAX_CONTENT } from '../protocol';
import { ui } from './dom';
import { isEditing, saveEdit } from './message-actions';
import { notify } from './notices';
import { page, roomShown } from './page-state';
import { scrollToBottom } from './scroll';

export function initComposer(): void {
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
}

export function updateComposer(): void {
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

function sendCurrent(): void {
  const room = roomShown();
  if (!page.session || !room) return;
  const text = ui.input.value;
  if (text.trim() === '') return;
  const len = codePointLength(text);
  if (len > MAX_CONTENT) {
    notify('error', `Message too long: ${len} characters, the limit is ${MAX_CONTENT}.`);
    return;
  }
  if (isEditing()) {
    void saveEdit(text);
    return;
  }
  try {
    page.session.sendMessage(room.id, text);
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
