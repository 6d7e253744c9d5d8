/**
 * A ROUTER/DEALER broker between REQ clients and REP workers, with the
 * broker from one library and the clients and workers from the other: a
 * zmesh Proxy between libzmq peers, and libzmq's Proxy between zmesh peers.
 * Every reply must reach the client that sent the request, over tcp and ipc.
 */
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"

const CLIENTS = 3
const WORKERS = 2
const REQUESTS = 5

/** What the tests need of a REQ or REP from either library. */
interface Peer {
  connect(address: string): void
  send(message: string | Buffer | Array<string | Buffer>): Promise<void>
  receive(): Promise<Buffer[]>
  close(): void
  readonly closed: boolean
}

const sockets: Array<{ close(): void }> = []
/** Proxies still running: a failed test must stop them before their sockets close. */
const proxies: Array<{ proxy: { terminate(): void }; running: Promise<void> }> = []

afterEach(async () => {
  for (const { proxy, running } of proxies.splice(0)) {
    try {
      proxy.terminate()
    } catch {
      // The test terminated it already.
    }
    await running
  }
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

function track<T extends { close(): void }>(socket: T): T {
  sockets.push(socket)
  return socket
}

const workerTag = (w: number) => `worker-${w}`

/**
 * Answers each request with its text plus the worker's tag, until the socket
 * closes. Returns the requests it served.
 */
function serve(worker: Peer, w: number): string[] {
  const served: string[] = []
  void (async () => {
    while (!worker.closed) {
      const [request] = await worker.receive()
      served.push(request!.toString())
      await worker.send(`${request!.toString()} ${workerTag(w)}`)
    }
  })().catch(() => {
    // receive() rejects once afterEach closes the worker.
  })
  return served
}

/** Each client sends its requests one by one and checks every reply is its own request, tagged by a worker. */
async function runClients(clients: readonly Peer[]): Promise<void> {
  const tags = Array.from({ length: WORKERS }, (_, w) => workerTag(w))
  await Promise.all(
    clients.map(async (client, c) => {
      for (let n = 0; n < REQUESTS; n++) {
        const request = `client-${c} request-${n}`
        await client.send(request)
        const reply = await client.receive()
        expect(reply).toHaveLength(1)
        const text = reply[0]!.toString()
        expect(text.startsWith(`${request} `), `${JSON.stringify(text)} answers ${request}`).toBe(true)
        expect(tags).toContain(text.slice(request.length + 1))
      }
    }),
  )
}

/** Every request was served exactly once, and the broker used every worker. */
function expectAllServed(served: readonly string[][]): void {
  const all = served.flat().sort()
  const sent = Array.from({ length: CLIENTS }, (_, c) =>
    Array.from({ length: REQUESTS }, (_, n) => `client-${c} request-${n}`),
  )
    .flat()
    .sort()
  expect(all).toEqual(sent)
  for (const requests of served) expect(requests.length).toBeGreaterThan(0)
}

describe.each(transports)("ROUTER/DEALER broker interop over $name", (transport) => {
  it(`a zmesh Proxy(Router, Dealer) brokers ${CLIENTS} libzmq REQ clients to ${WORKERS} libzmq REP workers`, async () => {
    const proxy = new zmesh.Proxy(track(new zmesh.Router()), track(new zmesh.Dealer()))
    await proxy.frontEnd.bind(transport.bindAddress())
    await proxy.backEnd.bind(transport.bindAddress())
    const running = proxy.run()
    proxies.push({ proxy, running })

    // Both workers are attached before any request, so the DEALER shares the work between them.
    const workers = Array.from({ length: WORKERS }, () => track(new zmq.Reply()))
    const served: string[][] = []
    for (const [w, worker] of workers.entries()) {
      const attached = nextEvent(proxy.backEnd.events, "handshake")
      worker.connect(proxy.backEnd.lastEndpoint!)
      await attached
      served.push(serve(worker, w))
    }

    const clients = Array.from({ length: CLIENTS }, () => track(new zmq.Request()))
    for (const client of clients) client.connect(proxy.frontEnd.lastEndpoint!)
    await runClients(clients)
    expectAllServed(served)

    proxy.terminate()
    await running
  })

  it(`libzmq's Proxy(Router, Dealer) brokers ${CLIENTS} zmesh REQ clients to ${WORKERS} zmesh REP workers`, async () => {
    const proxy = new zmq.Proxy(track(new zmq.Router()), track(new zmq.Dealer()))
    await proxy.frontEnd.bind(transport.bindAddress())
    await proxy.backEnd.bind(transport.bindAddress())
    const running = proxy.run()
    proxies.push({ proxy, running })

    const workers = Array.from({ length: WORKERS }, () => track(new zmesh.Reply()))
    const served: string[][] = []
    for (const [w, worker] of workers.entries()) {
      const attached = nextEvent(worker.events, "handshake")
      worker.connect(proxy.backEnd.lastEndpoint!)
      await attached
      served.push(serve(worker, w))
    }

    const clients = Array.from({ length: CLIENTS }, () => track(new zmesh.Request()))
    for (const client of clients) client.connect(proxy.frontEnd.lastEndpoint!)
    await runClients(clients)
    expectAllServed(served)

    proxy.terminate()
    await running
  })
})
