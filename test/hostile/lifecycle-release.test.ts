/**
 * A socket keeps no reference to the messages the application sent or
 * received once the application drops them (zeromq.js's "should release
 * buffers" test): not the last one queued (pipe.ts's detachSmall), not the
 * last frame decoded (FrameDecoder.body), over a bound socket read in place
 * (adopt-socket.ts) and a dialed one.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Pair } from "../../src/index.js"
import { cleanupIpc, ipcEndpoint } from "../helpers/endpoints.js"
import { collectGarbage } from "./measure.js"

afterEach(cleanupIpc)

const transports = [
  { name: "tcp", endpoint: () => "tcp://127.0.0.1:*" },
  { name: "ipc", endpoint: ipcEndpoint },
]

describe.each(transports)("messages are released once dropped ($name)", ({ endpoint }) => {
  it.each([16, 2048, 300_000])("sent and received messages of %i bytes, both ways", async (size) => {
    const bound = new Pair({ linger: 0 })
    const dialed = new Pair({ linger: 0 })
    try {
      await bound.bind(endpoint())
      dialed.connect(bound.lastEndpoint!)
      const refs: Array<WeakRef<object>> = []
      for (const [from, to] of [
        [dialed, bound],
        [bound, dialed],
      ] as const) {
        const send = async () => {
          for (let i = 0; i < 10; i++) {
            const message = Buffer.alloc(size, i)
            refs.push(new WeakRef(message))
            await from.send(message)
          }
        }
        const receive = async () => {
          for (let i = 0; i < 10; i++) {
            const [frame] = await to.receive()
            expect(frame!.length).toBe(size)
            refs.push(new WeakRef(frame!))
          }
        }
        await Promise.all([send(), receive()])
      }
      // WeakRef targets stay alive until the end of the job that made or read them: collect in later turns.
      let alive = refs.length
      for (let turn = 0; turn < 5 && alive > 0; turn++) {
        await new Promise((resolve) => setTimeout(resolve, 2))
        collectGarbage()
        alive = refs.filter((ref) => ref.deref() !== undefined).length
      }
      expect(alive).toBe(0)
    } finally {
      bound.close()
      dialed.close()
    }
  })
})
