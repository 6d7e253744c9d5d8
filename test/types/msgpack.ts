/**
 * Compile-only checks for zmesh/msgpack, run by `tsc --noEmit` in `npm test`:
 * a typed socket keeps its socket's capabilities and its value type.
 */
import { Dealer, Publisher, Pull, Push, Router, Subscriber } from "../../src/index.js"
import { MsgpackCodec, typed } from "../../src/msgpack/index.js"

interface Reading {
  city: string
  celsius: number
}

export async function typedSockets(): Promise<void> {
  const asReadings = typed<Reading>()
  const pub = asReadings(new Publisher())
  await pub.send({ city: "Paris", celsius: 12 }, ["weather.paris"])
  // @ts-expect-error a typed Publisher cannot receive
  await pub.receive()
  // @ts-expect-error the value must be a Reading
  await pub.send({ city: "Paris" })

  const sub = asReadings(new Subscriber())
  const reading: Reading = await sub.receive()
  void reading.celsius
  // @ts-expect-error a typed Subscriber cannot send
  await sub.send(reading)
  for await (const next of sub) {
    const city: string = next.city
    void city
  }

  const jobs = new MsgpackCodec<{ id: number }>()
  const push = jobs.wrap(new Push())
  await push.send({ id: 1 })
  // @ts-expect-error a typed Push cannot receive
  await push.receive()
  const pull = jobs.wrap(new Pull())
  const { id } = await pull.receive()
  // @ts-expect-error id is a number
  const wrong: string = id
  void wrong

  const router = jobs.wrap(new Router())
  const { envelope, value } = await router.receiveWithEnvelope()
  await router.send({ id: value.id + 1 }, envelope)
  const dealer = jobs.wrap(new Dealer())
  await dealer.send({ id: 2 })
  dealer.socket.connect("tcp://127.0.0.1:5555")
}
