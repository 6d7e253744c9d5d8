/**
 * `new Socket(type, options)` with libzmq's type number, as zeromq.js allows,
 * and a user's `class Mine extends Socket { constructor() { super(1) } }`.
 */
import { error } from "../errors.js"
import { Socket } from "./socket-base.js"

/** The socket classes by libzmq type number; filled by socket-types.ts. */
export const socketClasses = new Map<number, new (options?: object) => Socket>()

/** `new Socket(type, options)` with libzmq's type number, checked as zeromq.js checks it. */
export function constructByNumber(argumentCount: number, type: unknown, options: object | undefined, target: Function): Socket {
  if (typeof type !== "number") throw new TypeError("Socket type must be a number")
  if (argumentCount > 2) throw new TypeError(`Expected 2 arguments but received ${argumentCount}`)
  const SocketClass = socketClasses.get(type)
  if (SocketClass === undefined) throw error("EINVAL", `there is no socket type ${type}`)
  if (target === Socket) return new SocketClass(options)
  // A user's `class Mine extends Socket { constructor() { super(1) } }`: the socket of that type, seen as a Mine.
  return Reflect.construct(SocketClass, [options], blendedConstructor(target, SocketClass)) as Socket
}

const blended = new WeakMap<Function, Map<Function, Function>>()

/**
 * A constructor whose prototype serves a user's direct subclass of Socket built on a socket type:
 * the type's own methods and options, under the user's class (so instanceof
 * and the user's methods work, and the user's methods win over the type's).
 */
function blendedConstructor(target: Function, SocketClass: Function): Function {
  let byType = blended.get(target)
  if (byType === undefined) blended.set(target, (byType = new Map()))
  const known = byType.get(SocketClass)
  if (known !== undefined) return known
  const own = (from: Function) => {
    const keys = new Set<PropertyKey>()
    for (let p = from.prototype; p !== null && p !== Socket.prototype; p = Object.getPrototypeOf(p)) {
      for (const key of Reflect.ownKeys(p)) keys.add(key)
    }
    return keys
  }
  const users = own(target)
  const prototype = Object.create(target.prototype) as object
  for (let p = SocketClass.prototype; p !== Socket.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Reflect.ownKeys(p)) {
      if (key === "constructor" || users.has(key) || Object.hasOwn(prototype, key)) continue
      Object.defineProperty(prototype, key, Object.getOwnPropertyDescriptor(p, key)!)
    }
  }
  // Only its prototype matters: Reflect.construct gives the new socket this prototype.
  const constructor = function () {} as unknown as Function
  constructor.prototype = prototype
  byType.set(SocketClass, constructor)
  return constructor
}

