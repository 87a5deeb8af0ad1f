// Going to a room (or back to the empty view). The room view provides it when it starts; the
// lobby only asks for it, so the lobby and the room view do not import each other.

type ShowRoom = (id: string | null) => void;

let show: ShowRoom = () => undefined;

export function provideShowRoom(fn: ShowRoom): void {
  show = fn;
}

export function showRoom(id: string | null): void {
  show(id);
}
