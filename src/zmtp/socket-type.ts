/** Socket types and the compatibility matrix of 23/ZMTP (libzmq's check_socket_type). */

export const SocketType = {
  PAIR: "PAIR",
  PUB: "PUB",
  SUB: "SUB",
  REQ: "REQ",
  REP: "REP",
  DEALER: "DEALER",
  ROUTER: "ROUTER",
  PULL: "PULL",
  PUSH: "PUSH",
  XPUB: "XPUB",
  XSUB: "XSUB",
  /** ZMQ_STREAM: raw TCP peers, no ZMTP; never handshakes, so never checked against this matrix. */
  STREAM: "STREAM",
} as const

export type SocketType = (typeof SocketType)[keyof typeof SocketType]

const compatible: Record<SocketType, readonly SocketType[]> = {
  REQ: ["REP", "ROUTER"],
  REP: ["REQ", "DEALER"],
  DEALER: ["REP", "DEALER", "ROUTER"],
  ROUTER: ["REQ", "DEALER", "ROUTER"],
  PUB: ["SUB", "XSUB"],
  XPUB: ["SUB", "XSUB"],
  SUB: ["PUB", "XPUB"],
  XSUB: ["PUB", "XPUB"],
  PUSH: ["PULL"],
  PULL: ["PUSH"],
  PAIR: ["PAIR"],
  STREAM: [],
}

/** True when a socket of type `ours` may talk to a peer announcing `theirs`. */
export function isCompatible(ours: SocketType, theirs: string): boolean {
  return (compatible[ours] as readonly string[]).includes(theirs)
}

/** Socket types that send their `Identity` property, as libzmq does. */
export function sendsIdentity(type: SocketType): boolean {
  return type === "REQ" || type === "DEALER" || type === "ROUTER"
}
