// Browser entry point: wires the page's panels (in ui/) to a ChatSession (session/chat-session.ts holds all
// protocol logic).

import { initActionDialog } from '../ui/action-dialog';
import { initComposer } from '../ui/composer';
import { initConnectScreen, prefill, restoreSession } from '../ui/connect-screen';
import { initDirectMessages } from '../ui/direct-messages';
import { initLobby } from '../ui/lobby';
import { initMessageActions } from '../ui/message-actions';
import { initModerationActions } from '../ui/moderation-actions';
import { page } from '../ui/page-state';
import { initRoomSearch } from '../ui/room-search';
import { initRoomView } from '../ui/room-view';
import { saveSession } from '../ui/saved-session';

initConnectScreen();
initLobby();
initRoomView();
initComposer();
initMessageActions();
initRoomSearch();
initDirectMessages();
initModerationActions();
initActionDialog();

// Back online (laptop lid, Wi-Fi): reconnect now instead of waiting for the backoff.
window.addEventListener('online', () => page.session?.reconnectNow());

// A reload keeps the tab's session: the room on screen is saved as the page goes away.
window.addEventListener('pagehide', () => saveSession());

prefill();
restoreSession();
