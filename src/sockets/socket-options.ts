/** The constructor options of a socket type, derived from its settable properties (zeromq.js's `SocketOptions`). */
import type { Context } from "../context.js"

type IfEquals<X, Y, A, B = never> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? A : B

/** Keys of T that are neither methods nor read-only. */
type WritableKeys<T> = {
  [P in keyof T]-?: T[P] extends (...args: never[]) => unknown
    ? never
    : IfEquals<{ [Q in P]: T[P] }, { -readonly [Q in P]: T[P] }, P>
}[keyof T]

/**
 * What `new S(options)` accepts: any settable option of S, and the context.
 *
 * @example
 * ```ts
 * const options: SocketOptions<Dealer> = { routingId: "worker-1", linger: 0 }
 * const dealer = new Dealer(options)
 * ```
 */
export type SocketOptions<S> = Partial<{ context: Context } & Pick<S, WritableKeys<S>>>
