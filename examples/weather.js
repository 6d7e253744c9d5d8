// Weather updates with PUB/SUB: the publisher sends readings for many zip
// codes; the subscriber asks only for one ("10001 ") and averages 10 of them.
// Run: node examples/weather.js
import { setImmediate as nextTurn } from "node:timers/promises"
import { Publisher, Subscriber } from "zmesh"

const publisher = new Publisher()
await publisher.bind("tcp://127.0.0.1:*")

const subscriber = new Subscriber()
subscriber.connect(publisher.lastEndpoint)
subscriber.subscribe("10001 ") // a prefix filter: the publisher sends us nothing else

// The publisher runs until the subscriber has enough. A PUB never waits for
// subscribers (it drops what nobody wants), so it yields a turn now and then.
let done = false
const publishing = (async () => {
  let sent = 0
  while (!done) {
    const zip = String(10000 + Math.floor(Math.random() * 4)) // 10000..10003
    const celsius = Math.round(-10 + Math.random() * 45)
    await publisher.send(`${zip} ${celsius}`)
    if (++sent % 100 === 0) await nextTurn()
  }
  return sent
})()

const temperatures = []
for await (const [update] of subscriber) {
  const [zip, celsius] = String(update).split(" ")
  if (zip !== "10001") throw new Error(`the filter let ${zip} through`)
  temperatures.push(Number(celsius))
  if (temperatures.length === 10) break
}
done = true
const sent = await publishing
const average = temperatures.reduce((sum, t) => sum + t, 0) / temperatures.length
console.log(`publisher sent ${sent} readings for 4 zip codes`)
console.log(`subscriber got only zip 10001: ${temperatures.join(", ")}`)
console.log(`average temperature for 10001: ${average.toFixed(1)} C`)

subscriber.close()
publisher.close()
