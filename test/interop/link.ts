/** Binds one socket and connects the other to the address it got: no fixed ports. */
import type { TransportCase } from "../helpers/endpoints.js"

export interface Bindable {
  bind(address: string): Promise<void>
  readonly lastEndpoint: string | null
}
export interface Connectable {
  connect(address: string): void
}

export type Library = "zmesh" | "libzmq"

/** Binds `binder` on the transport's bind address and connects `connecter` to its `lastEndpoint`. */
export async function link(transport: TransportCase, binder: Bindable, connecter: Connectable): Promise<string> {
  await binder.bind(transport.bindAddress())
  const endpoint = binder.lastEndpoint
  if (endpoint === null) throw new Error("bind left lastEndpoint null")
  connecter.connect(endpoint)
  return endpoint
}
