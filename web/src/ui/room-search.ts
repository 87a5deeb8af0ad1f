// Searching the room shown: Enter in the search box asks the server for the newest matches, "Older
// results" pages on, Escape (or Close) clears it and goes back to the composer. Results are
// rendered escaped (render.ts); a search still answering when the user has moved on is dropped.

import { searchResultHtml } from '../render';
import { ui } from './dom';
import { page } from './page-state';

/** The search shown: which room and words, and where the next older page starts. */
let shown: { roomId: string; query: string; next: number | null } | null = null;
/** Bumped by every new search or close, so a late answer to an older one is ignored. */
let generation = 0;

export function initRoomSearch(): void {
  ui.searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = ui.searchInput.value.trim();
    if (!page.current || !query) return;
    void runSearch(page.current, query);
  });
  ui.searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      closeSearch();
      ui.input.focus();
    }
  });
  ui.searchResults.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      closeSearch();
      ui.searchInput.focus();
    }
  });
  ui.searchMore.addEventListener('click', () => {
    if (shown && shown.next !== null) void runSearch(shown.roomId, shown.query, shown.next);
  });
  ui.searchClose.addEventListener('click', () => {
    closeSearch();
    ui.searchInput.focus();
  });
}

/** Hides the results and forgets the search (another room shown, or the user closed it). */
export function closeSearch(): void {
  generation++;
  shown = null;
  ui.searchResults.hidden = true;
  ui.searchList.replaceChildren();
  ui.searchInput.value = '';
}

async function runSearch(roomId: string, query: string, before?: number): Promise<void> {
  const session = page.session;
  if (!session) return;
  const mine = ++generation;
  ui.searchResults.hidden = false;
  ui.searchStatus.textContent = before === undefined ? 'Searching…' : 'Loading older results…';
  try {
    const found = await session.search(roomId, query, before);
    if (mine !== generation) return;
    if (before === undefined) ui.searchList.replaceChildren();
    ui.searchList.insertAdjacentHTML('beforeend', found.results.map((r) => searchResultHtml(r)).join(''));
    shown = { roomId, query, next: found.next };
    const count = ui.searchList.children.length;
    ui.searchStatus.textContent = count === 0 ? `No messages match “${query}”.` : `${count} message${count === 1 ? '' : 's'} match “${query}”, newest first.`;
    ui.searchMore.hidden = found.next === null;
  } catch (err) {
    if (mine === generation) ui.searchStatus.textContent = `Search failed: ${(err as Error).message}`;
  }
}
