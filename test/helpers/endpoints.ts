/** Endpoints for tests: ephemeral TCP ports and unique ipc paths, never fixed ones. */
import { rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

let counter = 0
const created: string[] = []

/** A fresh ipc:// endpoint in the temp folder; `cleanupIpc()` removes any file left behind. */
export function ipcEndpoint(): string {
  const path = join(tmpdir(), `zmesh-test-${process.pid}-${++counter}.sock`)
  created.push(path)
  return `ipc://${path}`
}

export function cleanupIpc(): void {
  for (const path of created.splice(0)) rmSync(path, { force: true })
}

export interface TransportCase {
  readonly name: "tcp" | "ipc" | "inproc"
  /** An address to bind; read the real one back from `lastEndpoint`. */
  bindAddress(): string
}

export const transports: readonly TransportCase[] = [
  { name: "tcp", bindAddress: () => "tcp://127.0.0.1:*" },
  { name: "ipc", bindAddress: ipcEndpoint },
]

/** A fresh inproc:// name, unique in this process. */
export function inprocEndpoint(): string {
  return `inproc://zmesh-test-${++counter}`
}

/** tcp, ipc and inproc, for behaviours every transport must share. */
export const allTransports: readonly TransportCase[] = [...transports, { name: "inproc", bindAddress: inprocEndpoint }]

/** Binds `socket` (zmesh or zeromq) on the transport and returns the endpoint it got. */
export async function bindOn(
  transport: TransportCase,
  socket: { bind(address: string): Promise<void>; readonly lastEndpoint: string | null },
): Promise<string> {
  await socket.bind(transport.bindAddress())
  if (socket.lastEndpoint === null) throw new Error("bind left lastEndpoint null")
  return socket.lastEndpoint
}
