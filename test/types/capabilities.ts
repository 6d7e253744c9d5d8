/**
 * Compile-only checks, run by `tsc --noEmit` in `npm test`: each socket type
 * has exactly the methods of its capabilities, as in zeromq.js v6. An
 * `@ts-expect-error` that stops being an error fails the type check.
 */
import {
  Dealer,
  type Message,
  Pair,
  Publisher,
  Pull,
  Push,
  Reply,
  Request,
  Router,
  Subscriber,
  XPublisher,
  XSubscriber,
} from "../../src/index.js"

export async function capabilities(): Promise<void> {
  const pub = new Publisher()
  await pub.send(["topic", "body"])
  // @ts-expect-error a PUB cannot receive
  await pub.receive()

  const sub = new Subscriber()
  const received: Message = await sub.receive()
  sub.subscribe("topic", Buffer.from("other"))
  // @ts-expect-error a SUB cannot send
  await sub.send("x")

  const push = new Push({ sendHighWaterMark: 10, conflate: false })
  push.trySend("x")
  // @ts-expect-error a PUSH cannot receive
  await push.receive()

  const pull = new Pull()
  for await (const [frame] of pull) void frame
  // @ts-expect-error a PULL cannot send
  await pull.send("x")

  const router = new Router({ mandatory: true })
  await router.send([received[0]!, "", "reply"])
  // @ts-expect-error a ROUTER message starts with a routing id: an array is required
  await router.send("no routing id")
  router.connect("tcp://127.0.0.1:5555", { routingId: "peer" })

  // @ts-expect-error options are checked per socket type
  new Push({ mandatory: true })
  // @ts-expect-error option values are typed
  new Request({ correlate: "yes" })

  for (const socket of [new Pair(), new Dealer(), new Reply(), new Request(), new XPublisher(), new XSubscriber()]) {
    await socket.send("x")
    await socket.receive()
  }
}
