/** Socket helpers for tests: close without lingering, wait for an event. */
import type { EventOfType, EventType, Observer } from "../../src/events.js"

interface Closable {
  linger: number
  close(): void
}

interface ClosableLike {
  close(): void
  linger?: number | unknown
}

/** Closes sockets (zmesh or zeromq) with linger 0 so no test waits on undelivered output. */
export function closeAll(...sockets: Array<Closable | ClosableLike | undefined>): void {
  for (const socket of sockets) {
    if (socket === undefined) continue
    try {
      ;(socket as Closable).linger = 0
    } catch {
      // A closed zeromq socket refuses option writes.
    }
    socket.close()
  }
}

/** Resolves with the next event of `type` from an observer in listener mode. */
export function nextEvent<E extends EventType>(events: Observer, type: E): Promise<EventOfType<E>> {
  return new Promise((resolve) => {
    const listener = (event: EventOfType<E>) => {
      events.off(type, listener)
      resolve(event)
    }
    events.on(type, listener)
  })
}
