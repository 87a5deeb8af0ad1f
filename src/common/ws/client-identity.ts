import type { WebSocket } from 'ws';

/** The username a socket proved at its upgrade (token mode), handed from the adapter to the gateway. */
const identities = new WeakMap<WebSocket, string>();

export function bindUpgradeIdentity(socket: WebSocket, username: string): void {
  identities.set(socket, username);
}

export function upgradeIdentityOf(socket: WebSocket): string | null {
  return identities.get(socket) ?? null;
}
