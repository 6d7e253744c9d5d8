/**
 * 18/MDP (Majordomo Protocol 0.2) frames and 8/MMI codes, exactly as the
 * specifications put them on the wire. MDP/0.2 differs from 7/MDP (0.1): no
 * empty frame opens a command, and REPLY became PARTIAL and FINAL.
 */

/** Frame 0 of every MDP/0.2 command: the sub-protocol and its version. */
export const MdpHeader = {
  /** "MDPC02": MDP/Client v0.2. */
  CLIENT: "MDPC02",
  /** "MDPW02": MDP/Worker v0.2. */
  WORKER: "MDPW02",
} as const

/** Frame 1 of an MDP/Client command (one byte). */
export const MdpClientCommand = { REQUEST: 0x01, PARTIAL: 0x02, FINAL: 0x03 } as const

/** Frame 1 of an MDP/Worker command (one byte). */
export const MdpWorkerCommand = { READY: 0x01, REQUEST: 0x02, PARTIAL: 0x03, FINAL: 0x04, HEARTBEAT: 0x05, DISCONNECT: 0x06 } as const

/** 8/MMI: services the broker answers itself, and its reply codes. */
export const Mmi = {
  /** "MMI broker implementation MUST handle all services that start with "mmi."" */
  PREFIX: "mmi.",
  SERVICE: "mmi.service",
  FOUND: "200",
  NOT_FOUND: "404",
  NOT_IMPLEMENTED: "501",
} as const

/** @internal Ready-made frames. */
export const frames = {
  client: Buffer.from(MdpHeader.CLIENT),
  worker: Buffer.from(MdpHeader.WORKER),
  empty: Buffer.alloc(0),
  command: (code: number) => Buffer.from([code]),
}

/** @internal True when `frame` is the header `expected` ("MDPC02" or "MDPW02"). */
export function isHeader(frame: Buffer | undefined, expected: Buffer): boolean {
  return frame !== undefined && frame.equals(expected)
}

/** @internal The one-byte command in `frame`, or -1. */
export function commandOf(frame: Buffer | undefined): number {
  return frame !== undefined && frame.length === 1 ? frame[0]! : -1
}
