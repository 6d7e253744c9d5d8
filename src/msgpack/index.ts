/**
 * zmesh/msgpack: typed messages. Send and receive JavaScript values, one
 * MessagePack frame each (msgpackr: records on, structured clone off), with
 * the socket's capabilities and the value's type carried through.
 *
 * @example
 * ```ts
 * import { Push, Pull } from "zmesh"
 * import { typed } from "zmesh/msgpack"
 *
 * interface Job { id: number; url: string }
 * const asJobs = typed<Job>()
 * const pull = asJobs(new Pull()); await pull.socket.bind("tcp://127.0.0.1:*")
 * const push = asJobs(new Push()); push.socket.connect(pull.socket.lastEndpoint!)
 * await push.send({ id: 1, url: "https://example.com" })
 * const job = await pull.receive()   // job: Job
 * ```
 */
export { MsgpackCodec, msgpackDefaults, type MsgpackOptions } from "./codec.js"
export { typed, type TypedSocket, type TypedReadable, type TypedWritable } from "./typed-socket.js"
