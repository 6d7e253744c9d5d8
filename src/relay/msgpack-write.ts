/**
 * Writing MessagePack by hand into a buffer, for the two hot paths (a
 * MESSAGE record, a DELIVER command): the same bytes msgpackr produces, with
 * no intermediate buffer and one copy of the body.
 */

export function writeStr(buf: Buffer, at: number, s: string): number {
  const n = s.length
  // Names and ids are short ASCII: copied here, without the two native calls below (a third of the cost).
  if (n < 0x100) {
    let i = at
    if (n < 32) buf[i++] = 0xa0 | n
    else {
      buf[i++] = 0xd9
      buf[i++] = n
    }
    let k = 0
    for (; k < n; k++) {
      const c = s.charCodeAt(k)
      if (c >= 0x80) break
      buf[i++] = c
    }
    if (k === n) return i
  }
  return writeUtf8(buf, at, s)
}

function writeUtf8(buf: Buffer, at: number, s: string): number {
  const len = Buffer.byteLength(s)
  if (len < 32) buf[at++] = 0xa0 | len
  else if (len < 0x100) {
    buf[at++] = 0xd9
    buf[at++] = len
  } else if (len < 0x10000) {
    buf[at++] = 0xda
    buf.writeUInt16BE(len, at)
    at += 2
  } else {
    buf[at++] = 0xdb
    buf.writeUInt32BE(len, at)
    at += 4
  }
  return at + buf.write(s, at, len, "utf8")
}

export function writeBin(buf: Buffer, at: number, data: Uint8Array): number {
  const len = data.length
  if (len < 0x100) {
    buf[at++] = 0xc4
    buf[at++] = len
  } else if (len < 0x10000) {
    buf[at++] = 0xc5
    buf.writeUInt16BE(len, at)
    at += 2
  } else {
    buf[at++] = 0xc6
    buf.writeUInt32BE(len, at)
    at += 4
  }
  buf.set(data, at)
  return at + len
}

/** Non-negative integers; above 2^32 as float64, as msgpackr does (it reads uint64 as BigInt). */
export function writeUint(buf: Buffer, at: number, n: number): number {
  if (n < 0x80) buf[at++] = n
  else if (n < 0x100) {
    buf[at++] = 0xcc
    buf[at++] = n
  } else if (n < 0x10000) {
    buf[at++] = 0xcd
    buf.writeUInt16BE(n, at)
    at += 2
  } else if (n <= 0xffffffff) {
    buf[at++] = 0xce
    buf.writeUInt32BE(n, at)
    at += 4
  } else {
    buf[at++] = 0xcb
    buf.writeDoubleBE(n, at)
    at += 8
  }
  return at
}

export function writeMapHeader(buf: Buffer, at: number, n: number): number {
  if (n < 16) buf[at++] = 0x80 | n
  else {
    buf[at++] = 0xde
    buf.writeUInt16BE(n, at)
    at += 2
  }
  return at
}

export function writeHeaders(buf: Buffer, at: number, headers: Record<string, string> | null): number {
  if (headers === null) {
    buf[at] = 0xc0
    return at + 1
  }
  const entries = Object.entries(headers)
  at = writeMapHeader(buf, at, entries.length)
  for (const [k, v] of entries) {
    at = writeStr(buf, at, k)
    at = writeStr(buf, at, v)
  }
  return at
}

/** An upper bound of the bytes `writeHeaders` writes. */
export function headersBound(headers: Record<string, string> | null): number {
  let n = 5
  if (headers !== null) for (const [k, v] of Object.entries(headers)) n += 10 + 3 * (k.length + v.length)
  return n
}

export function writeArrayHeader(buf: Buffer, at: number, n: number): number {
  if (n < 16) buf[at++] = 0x90 | n
  else if (n < 0x10000) {
    buf[at++] = 0xdc
    buf.writeUInt16BE(n, at)
    at += 2
  } else {
    buf[at++] = 0xdd
    buf.writeUInt32BE(n, at)
    at += 4
  }
  return at
}
