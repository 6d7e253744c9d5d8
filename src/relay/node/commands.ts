/**
 * The node's handling of each client command: checks every field (a bad
 * command is answered with an ERROR and hurts nothing else), then acts.
 */
import { ZmeshError } from "../../errors.js"
import { Limits, Op, PROTOCOL_VERSION, fail, headersSize, isCount, isId, isName } from "../protocol.js"
import { Decided, type MessageOp, type StoreOp } from "../store/store.js"
import type { NodeCore } from "./core.js"
import type { ConsumerState, Session } from "./session.js"

export function handleCommand(core: NodeCore, session: Session, command: unknown): void {
  if (!Array.isArray(command) || command.length === 0) {
    session.push([Op.ERROR, 0, "ERR_RELAY_PROTOCOL", "a command must be a non-empty array"], 0)
    return
  }
  const op = command[0]
  if (op === Op.PING) return session.push([Op.PONG], 0)
  if (op === Op.BYE) return core.endSession(session, "bye")
  const rid = command[1]
  if (!isCount(rid, 1, Number.MAX_SAFE_INTEGER)) {
    session.push([Op.ERROR, 0, "ERR_RELAY_PROTOCOL", `command ${String(op)}: the request id must be a positive integer`], 0)
    return
  }
  if (!session.begin(rid)) return
  try {
    switch (op) {
      case Op.HELLO:
        return hello(core, session, rid, command)
      case Op.SEND:
        return send(core, session, rid, command)
      case Op.PREPARE:
        return prepare(core, session, rid, command)
      case Op.DECIDE:
        return decide(core, session, rid, command)
      case Op.RESOLVER:
        return resolver(core, session, rid, command)
      case Op.CANCEL:
        return cancel(core, session, rid, command)
      case Op.CONSUME:
        return consume(core, session, rid, command)
      case Op.STOP:
        return stop(session, rid, command)
      case Op.ACK:
      case Op.NACK:
      case Op.EXTEND:
        return settle(core, session, rid, command)
      default:
        throw fail("ERR_RELAY_UNKNOWN_COMMAND", `unknown command ${JSON.stringify(op)}`)
    }
  } catch (err) {
    const code = err instanceof ZmeshError ? err.code : "ERR_RELAY_PROTOCOL"
    session.answer(rid, [Op.ERROR, rid, code, (err as Error).message])
  }
}

function hello(core: NodeCore, session: Session, rid: number, c: unknown[]): void {
  const version = c[2]
  if (version !== PROTOCOL_VERSION) throw fail("ERR_RELAY_VERSION", `protocol version ${String(version)} is not supported (this relay speaks ${PROTOCOL_VERSION})`)
  const { maxMessageSize, maxDelay, sessionTimeout } = core.options
  session.answer(rid, [Op.OK, rid, { version: PROTOCOL_VERSION, epoch: core.epoch, maxMessageSize, maxDelay, sessionTimeout }])
}

function send(core: NodeCore, session: Session, rid: number, c: unknown[]): void {
  const [, , queue, id, body, headers, delay, at, producerId, producerEpoch, producerSeq, fresh] = c
  const hasDelay = delay !== null && delay !== undefined
  const hasAt = at !== null && at !== undefined
  if (hasDelay && hasAt) throw fail("ERR_RELAY_DELAY_CONFLICT", "delay and at exclude each other")
  if (hasDelay && !isCount(delay, 0, Number.MAX_SAFE_INTEGER)) throw fail("ERR_RELAY_PROTOCOL", "delay must be a non-negative integer (ms)")
  if (hasAt && !isCount(at, 0, Number.MAX_SAFE_INTEGER)) throw fail("ERR_RELAY_PROTOCOL", "at must be a non-negative integer (epoch ms)")
  const now = Date.now()
  const due = hasDelay ? now + (delay as number) : hasAt ? (at as number) : 0
  if (due - now > core.options.maxDelay) {
    throw fail("ERR_RELAY_DELAY_TOO_LONG", `due in ${due - now} ms, beyond the relay's maxDelay of ${core.options.maxDelay} ms`)
  }
  const producer = producerId === null || producerId === undefined ? undefined : checkProducer(producerId, producerEpoch, producerSeq)
  const op = messageOp(core, queue, id, body, headers, now, due > now ? due : 0, producer, false, fresh === true)
  core.committer.send(session, rid, op)
}

/** A half message: stored invisible, first checked back `checkAfter` ms from now. */
function prepare(core: NodeCore, session: Session, rid: number, c: unknown[]): void {
  const [, , queue, id, body, headers, producerId, producerEpoch, producerSeq] = c
  const producer = checkProducer(producerId, producerEpoch, producerSeq)
  const now = Date.now()
  core.committer.send(session, rid, messageOp(core, queue, id, body, headers, now, now + core.options.checkAfter, producer, true, false))
}

interface Producer {
  readonly producerId: string
  readonly producerEpoch: string
  readonly producerSeq: number
}

function checkProducer(producerId: unknown, producerEpoch: unknown, producerSeq: unknown): Producer {
  assertProducerId(producerId)
  if (!isId(producerEpoch)) throw fail("ERR_RELAY_PROTOCOL", "the producer epoch must be a string of 1-255 characters")
  if (!isCount(producerSeq, 1, Number.MAX_SAFE_INTEGER)) throw fail("ERR_RELAY_PROTOCOL", "the producer sequence must be a positive integer")
  return { producerId, producerEpoch, producerSeq }
}

/** Checks a message's fields and the store's room, and makes its store operation. */
function messageOp(
  core: NodeCore,
  queue: unknown,
  id: unknown,
  body: unknown,
  headers: unknown,
  now: number,
  due: number,
  producer: Producer | undefined,
  half: boolean,
  fresh: boolean,
): MessageOp {
  assertQueue(queue)
  assertId(id)
  if (!(body instanceof Uint8Array)) throw fail("ERR_RELAY_PROTOCOL", "the body must be binary")
  const hsize = headersSize(headers)
  if (hsize < 0) throw fail("ERR_RELAY_PROTOCOL", "headers must be a map of strings")
  const size = body.length + hsize
  if (size > core.options.maxMessageSize) {
    throw fail("ERR_RELAY_MESSAGE_TOO_LARGE", `message of ${size} bytes exceeds the relay's maxMessageSize of ${core.options.maxMessageSize}`)
  }
  if (!core.store.admit(size)) {
    core.counters.refused++
    throw fail("ERR_RELAY_STORE_FULL", "the relay's store is full; try again once consumers have caught up")
  }
  return {
    type: "message",
    queue,
    id,
    body,
    headers: hsize > 0 || (headers !== null && headers !== undefined) ? (headers as Record<string, string>) : null,
    storedAt: now,
    due,
    dedupWindow: core.options.dedupWindow,
    producerId: producer?.producerId ?? null,
    producerEpoch: producer?.producerEpoch ?? null,
    producerSeq: producer?.producerSeq ?? null,
    half,
    fresh,
  }
}

/** A half message's commit or rollback, or a check-back's "unknown". */
function decide(core: NodeCore, session: Session, rid: number, c: unknown[]): void {
  const [, , queue, id, decision] = c
  assertQueue(queue)
  assertId(id)
  if (decision !== "commit" && decision !== "rollback" && decision !== "unknown") {
    throw fail("ERR_RELAY_PROTOCOL", `a decision is "commit", "rollback" or "unknown", not ${JSON.stringify(decision)}`)
  }
  const { dedupWindow } = core.options
  let op: StoreOp | undefined
  if (decision === "unknown") {
    op = core.checks.unknown(queue, id)
    if (op === undefined) return session.ok(rid)
  } else {
    core.checks.decided(queue, id)
    const at = Date.now()
    op = decision === "commit" ? { type: "commit", queue, id, at, dedupWindow } : { type: "rollback", queue, id, at, reason: "rolled back by its producer", dedupWindow }
  }
  const kind = op.type
  core.committer.run([op], (err, results) => {
    core.markDirty(session)
    if (err !== undefined) return session.answer(rid, [Op.ERROR, rid, (err as ZmeshError).code ?? "ERR_RELAY_STORE_FAILED", err.message])
    const result = results![0]!
    if (result > 0) {
      if (kind === "commit") {
        core.counters.committed++
        core.queueChanged(queue)
      } else {
        core.counters.rolledBack++
        if (decision === "unknown") core.log("warn", `half message ${queue}/${id} rolled back: ${(op as { reason: string }).reason}`)
      }
      return session.ok(rid)
    }
    // Decided before: the same decision again is fine (a resend); the other one is refused.
    if (result === (kind === "commit" ? Decided.committed : Decided.rolledBack) || decision === "unknown") return session.ok(rid)
    if (result === Decided.committed) return session.answer(rid, [Op.ERROR, rid, "ERR_RELAY_TX_COMMITTED", `${queue}/${id} was committed already`])
    if (result === Decided.rolledBack) {
      return session.answer(rid, [Op.ERROR, rid, "ERR_RELAY_TX_ROLLED_BACK", `${queue}/${id} was rolled back already (by its producer or after unanswered check-backs)`])
    }
    session.answer(rid, [Op.ERROR, rid, "ERR_RELAY_TX_UNKNOWN", `no half message ${queue}/${id}: never prepared, or decided longer ago than the relay's dedupWindow`])
  })
}

function resolver(core: NodeCore, session: Session, rid: number, c: unknown[]): void {
  const producerId = c[2]
  assertProducerId(producerId)
  core.checks.register(session, producerId)
  session.ok(rid)
}

function cancel(core: NodeCore, session: Session, rid: number, c: unknown[]): void {
  const [, , queue, id] = c
  assertQueue(queue)
  assertId(id)
  core.committer.run([{ type: "cancel", queue, id }], (err, results) => {
    if (err !== undefined) session.answer(rid, [Op.ERROR, rid, (err as ZmeshError).code ?? "ERR_RELAY_STORE_FAILED", err.message])
    else session.answer(rid, [Op.OK, rid, results![0]! > 0])
    core.markDirty(session)
  })
}

function consume(core: NodeCore, session: Session, rid: number, c: unknown[]): void {
  const [, , tag, queue, group, prefetch, ackTimeout, maxDeliveries, dlq] = c
  if (!isCount(tag, 1, Number.MAX_SAFE_INTEGER)) throw fail("ERR_RELAY_PROTOCOL", "the consumer tag must be a positive integer")
  assertQueue(queue)
  if (!isName(group)) throw fail("ERR_RELAY_INVALID_QUEUE", `invalid group name ${JSON.stringify(group)}`)
  if (!isName(dlq) || dlq === queue) throw fail("ERR_RELAY_INVALID_QUEUE", `invalid dead-letter queue ${JSON.stringify(dlq)}`)
  if (!isCount(prefetch, ...Limits.prefetch)) throw fail("ERR_RELAY_PROTOCOL", `prefetch must be an integer in ${Limits.prefetch.join("-")}`)
  if (!isCount(ackTimeout, ...Limits.ackTimeout)) throw fail("ERR_RELAY_PROTOCOL", `ackTimeout must be an integer in ${Limits.ackTimeout.join("-")}`)
  if (!isCount(maxDeliveries, ...Limits.maxDeliveries)) {
    throw fail("ERR_RELAY_PROTOCOL", `maxDeliveries must be an integer in ${Limits.maxDeliveries.join("-")}`)
  }
  const existing = session.consumers.get(tag)
  if (existing !== undefined) {
    // Registered again after a reconnect: nothing changes.
    session.answer(rid, [Op.OK, rid, existing.group.settings])
    return
  }
  let dispatcher = core.group(queue, group)
  const isNew = dispatcher === undefined
  dispatcher ??= core.group(queue, group, { ackTimeout, maxDeliveries, deadLetterQueue: dlq })!
  const consumer: ConsumerState = { session, tag, group: dispatcher, prefetch, inflight: 0, leases: new Set(), closed: false }
  session.consumers.set(tag, consumer)
  dispatcher.addConsumer(consumer)
  if (!isNew) {
    session.answer(rid, [Op.OK, rid, dispatcher.settings])
    return
  }
  const created = dispatcher
  core.committer.run([{ type: "group", queue, group, settings: created.settings }], (err) => {
    if (err === undefined) {
      created.created = true
      session.answer(rid, [Op.OK, rid, created.settings])
      created.dispatch()
    } else {
      session.answer(rid, [Op.ERROR, rid, (err as ZmeshError).code ?? "ERR_RELAY_STORE_FAILED", err.message])
      // Not created: forget it, so that the next consumer tries again.
      for (const consumer2 of [...session.consumers.values()]) if (consumer2.group === created) session.consumers.delete(consumer2.tag)
      core.groups.get(queue)?.delete(group)
    }
    core.markDirty(session)
  })
}

function stop(session: Session, rid: number, c: unknown[]): void {
  const [, , tag, unseen] = c
  const consumer = session.consumers.get(tag as number)
  if (consumer !== undefined) {
    session.consumers.delete(consumer.tag)
    const tokens = Array.isArray(unseen) ? new Set(unseen.filter((t): t is number => typeof t === "number")) : undefined
    consumer.group.removeConsumer(consumer, tokens)
  }
  session.ok(rid)
}

function settle(core: NodeCore, session: Session, rid: number, c: unknown[]): void {
  const [op, , token, delay] = c
  const lease = typeof token === "number" ? core.leases.get(token) : undefined
  if (lease === undefined || lease.consumer.session !== session || (lease.settling && op !== Op.ACK)) {
    throw fail("ERR_RELAY_LEASE_EXPIRED", `no lease for token ${String(token)}: it expired, was settled or released, or the relay restarted; the message is or will be redelivered`)
  }
  const group = lease.consumer.group
  if (op === Op.ACK) return group.ack(lease, rid)
  if (op === Op.EXTEND) {
    group.extend(lease)
    session.ok(rid)
    return
  }
  const wait = delay === null || delay === undefined ? 0 : delay
  if (!isCount(wait, ...Limits.nackDelay)) throw fail("ERR_RELAY_PROTOCOL", `nack delay must be an integer in ${Limits.nackDelay.join("-")} ms`)
  group.nack(lease, wait, (err) => {
    if (err !== undefined) session.answer(rid, [Op.ERROR, rid, (err as ZmeshError).code ?? "ERR_RELAY_STORE_FAILED", err.message])
    else session.ok(rid)
    core.markDirty(session)
  })
}

function assertQueue(queue: unknown): asserts queue is string {
  if (!isName(queue)) throw fail("ERR_RELAY_INVALID_QUEUE", `invalid queue name ${JSON.stringify(queue)}`)
}

function assertId(id: unknown): asserts id is string {
  if (!isId(id)) throw fail("ERR_RELAY_PROTOCOL", "the message id must be a string of 1-255 characters")
}

function assertProducerId(producerId: unknown): asserts producerId is string {
  if (!isName(producerId)) throw fail("ERR_RELAY_PROTOCOL", "the producer id must be a name of 1-200 characters A-Z a-z 0-9 . _ - : /")
}
