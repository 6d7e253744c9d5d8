/**
 * zeromq.js's low-level option accessors (`getInt32Option(17)` and the
 * like, protected there): options by libzmq number, read and written
 * through the same validating properties as `sock.linger`.
 */
import { error } from "../errors.js"
import { hasSetter, optionIds } from "../options.js"

type Kind = "Bool" | "Int32" | "Uint32" | "Int64" | "Uint64" | "String"

const KINDS: readonly Kind[] = ["Bool", "Int32", "Uint32", "Int64", "Uint64", "String"]

function optionName(socket: object, id: unknown): string {
  if (typeof id !== "number") throw new TypeError("Identifier must be a number")
  const name = optionIds[id]
  if (name === undefined || !(name in socket)) throw error("EINVAL", `this socket has no option number ${id}`)
  return name
}

function get(this: Record<string, unknown>, kind: Kind, id: unknown): unknown {
  const value = this[optionName(this, id)]
  if (kind === "String") return value === null || value === undefined ? null : String(value)
  if (kind === "Bool") return Boolean(value)
  // libzmq stores booleans as ints: a numeric accessor reads them as 0 or 1.
  return typeof value === "boolean" ? Number(value) : value
}

function set(this: Record<string, unknown>, kind: Kind, id: unknown, value: unknown): void {
  const name = optionName(this, id)
  if (kind === "Bool" && typeof value !== "boolean") throw new TypeError("Option value must be a boolean")
  if (kind === "String" && value !== null && typeof value !== "string" && !Buffer.isBuffer(value)) {
    throw new TypeError("Option value must be a string or buffer")
  }
  if (kind !== "Bool" && kind !== "String" && typeof value !== "number") throw new TypeError("Option value must be a number")
  if (!hasSetter(this, name)) throw error("EINVAL", `option ${name} (${String(id)}) cannot be set`)
  // A numeric accessor may set a boolean option, as libzmq's int-typed setsockopt does.
  this[name] = typeof this[name] === "boolean" && typeof value === "number" ? value !== 0 : value
}

export const LowLevelOptions = {
  /** Adds get<Kind>Option(id) and set<Kind>Option(id, value) for every kind to a prototype. */
  install(prototype: object): void {
    for (const kind of KINDS) {
      Object.defineProperty(prototype, `get${kind}Option`, {
        configurable: true,
        writable: true,
        value(this: Record<string, unknown>, id: unknown) {
          return get.call(this, kind, id)
        },
      })
      Object.defineProperty(prototype, `set${kind}Option`, {
        configurable: true,
        writable: true,
        value(this: Record<string, unknown>, id: unknown, value: unknown) {
          set.call(this, kind, id, value)
        },
      })
    }
  },
}
