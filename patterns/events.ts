/** Typed events for the pattern classes: unions discriminated on `type`, listened to by `on()` or awaited by `next()`. */

/** The shape every pattern event has. */
export interface PatternEvent {
  readonly type: string
}

type Listener<E> = (event: E) => void

/**
 * A small typed event emitter. Listeners run synchronously; one that throws
 * is reported on the process's `uncaughtException` path (via queueMicrotask)
 * and never breaks the pattern's own state.
 *
 * @example
 * ```ts
 * broker.events.on("worker:expired", (e) => console.log(`${e.service} worker ${e.worker} expired`))
 * const { worker } = await broker.events.next("worker:ready")
 * ```
 */
export class PatternEvents<E extends PatternEvent> {
  private readonly listeners = new Map<string, Set<Listener<never>>>()

  /** Calls `listener` for every event of `type`. */
  on<T extends E["type"]>(type: T, listener: Listener<Extract<E, { type: T }>>): this {
    let set = this.listeners.get(type)
    if (set === undefined) this.listeners.set(type, (set = new Set()))
    set.add(listener as Listener<never>)
    return this
  }

  off<T extends E["type"]>(type: T, listener: Listener<Extract<E, { type: T }>>): this {
    this.listeners.get(type)?.delete(listener as Listener<never>)
    return this
  }

  /**
   * The next event of `type` (optionally the next one `accept` approves).
   * Call it before the action that causes the event, then await it.
   */
  next<T extends E["type"]>(type: T, accept?: (event: Extract<E, { type: T }>) => boolean): Promise<Extract<E, { type: T }>> {
    return new Promise((resolve) => {
      const listener = (event: Extract<E, { type: T }>) => {
        if (accept !== undefined && !accept(event)) return
        this.off(type, listener)
        resolve(event)
      }
      this.on(type, listener)
    })
  }

  /** @internal Called by the pattern. */
  emit(event: E): void {
    const set = this.listeners.get(event.type)
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        ;(listener as Listener<E>)(event)
      } catch (err) {
        // A throwing listener is the application's bug: surface it without unwinding our state.
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }
}
