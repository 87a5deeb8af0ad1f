// The confirmation dialog of the actions that need one (kick, ban, mute, appointing a moderator,
// inviting): a modal <dialog>, so focus stays inside it, Tab moves between its fields and buttons,
// Enter confirms and Escape cancels. The action runs while it is open: a refusal is shown in it
// (it stays open to try again), success closes it. Focus then goes back where the user was.

import { ui } from './dom';
import { notify } from './notices';

export type DialogField = 'reason' | 'duration' | 'name';

export interface DialogValues {
  reason: string;
  seconds: number;
  name: string;
}

export interface ActionSpec {
  title: string;
  text: string;
  /** The confirm button's label (e.g. "Kick"). */
  confirm: string;
  /** A red confirm button: the action removes someone or cannot be undone. */
  danger?: boolean;
  field?: DialogField;
  /** A problem with the values, shown before anything is sent; null when they are fine. */
  check?: (values: DialogValues) => string | null;
  /** Does it; throws a readable Error to keep the dialog open with that message. */
  run: (values: DialogValues) => Promise<void>;
  /** Where focus goes afterwards, found again after the action (the button that opened it may have been redrawn). */
  returnFocus?: () => HTMLElement | null;
}

let current: ActionSpec | null = null;
let opener: HTMLElement | null = null;

export function initActionDialog(): void {
  ui.dialogForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void confirm();
  });
  ui.dialogForm.addEventListener('input', () => (ui.dialogError.textContent = ''));
  ui.dialogCancel.addEventListener('click', () => ui.dialog.close());
  // Escape closes a modal dialog by itself; every way of closing ends here
  ui.dialog.addEventListener('close', () => {
    const spec = current;
    current = null;
    const target = spec?.returnFocus?.() ?? opener;
    opener = null;
    if (target?.isConnected) target.focus();
  });
}

export function openActionDialog(spec: ActionSpec): void {
  if (ui.dialog.open) ui.dialog.close();
  opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  current = spec;
  ui.dialogTitle.textContent = spec.title;
  ui.dialogText.textContent = spec.text;
  ui.dialogConfirm.textContent = spec.confirm;
  ui.dialogConfirm.className = spec.danger ? 'danger solid' : 'primary';
  ui.dialogConfirm.disabled = false;
  ui.dialogError.textContent = '';
  const fields: [DialogField, HTMLElement, HTMLInputElement | HTMLSelectElement][] = [
    ['reason', ui.dialogReason.labels![0], ui.dialogReason],
    ['duration', ui.dialogDuration.labels![0], ui.dialogDuration],
    ['name', ui.dialogName.labels![0], ui.dialogName],
  ];
  for (const [field, label, input] of fields) {
    label.hidden = input.hidden = spec.field !== field;
    input.value = field === 'duration' ? '300' : '';
  }
  ui.dialog.showModal();
  const input = fields.find(([field]) => field === spec.field)?.[2];
  (input ?? ui.dialogConfirm).focus();
}

async function confirm(): Promise<void> {
  const spec = current;
  if (!spec || ui.dialogConfirm.disabled) return;
  const values: DialogValues = { reason: ui.dialogReason.value.trim(), seconds: Number(ui.dialogDuration.value), name: ui.dialogName.value.trim() };
  const problem = spec.check?.(values) ?? null;
  ui.dialogError.textContent = problem ?? '';
  if (problem) return;
  ui.dialogConfirm.disabled = true;
  try {
    await spec.run(values);
    if (current === spec) ui.dialog.close();
  } catch (err) {
    if (current === spec) ui.dialogError.textContent = (err as Error).message;
    else notify('error', `${spec.title} ${(err as Error).message}`); // cancelled while it ran
  } finally {
    ui.dialogConfirm.disabled = false;
  }
}
