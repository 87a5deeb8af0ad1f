// Browser entry point: wires the page's panels (in ui/) to a ChatSession (session.ts holds all
// protocol logic).

import { initComposer } from './ui/composer';
import { initConnectScreen, prefill } from './ui/connect-screen';
import { initLobby } from './ui/lobby';
import { page } from './ui/page-state';
import { initRoomView } from './ui/room-view';

initConnectScreen();
initLobby();
initRoomView();
initComposer();

// Back online (laptop lid, Wi-Fi): reconnect now instead of waiting for the backoff.
window.addEventListener('online', () => page.session?.reconnectNow());

prefill();
