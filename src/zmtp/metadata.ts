/** ZMTP metadata properties (23/ZMTP "metadata"): `nlen(1) name vlen(4) value`. */
import { ZmeshError } from "../errors.js"

/** Property names exactly as libzmq writes and compares them (byte-exact). */
export const PROPERTY_SOCKET_TYPE = "Socket-Type"
export const PROPERTY_IDENTITY = "Identity"

/** Peer metadata: names as sent, values as raw bytes. */
export type Metadata = Map<string, Buffer>

export function encodeMetadata(props: Iterable<readonly [string, Buffer | string]>): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of props) {
    const nameBytes = Buffer.from(name, "latin1")
    if (nameBytes.length === 0 || nameBytes.length > 255) {
      throw new ZmeshError("EINVAL", `metadata name must be 1-255 bytes: ${JSON.stringify(name)}`)
    }
    const valueBytes = typeof value === "string" ? Buffer.from(value, "latin1") : value
    const head = Buffer.allocUnsafe(1 + nameBytes.length + 4)
    head[0] = nameBytes.length
    nameBytes.copy(head, 1)
    head.writeUInt32BE(valueBytes.length, 1 + nameBytes.length)
    parts.push(head, valueBytes)
  }
  return Buffer.concat(parts)
}

/** Decodes properties; throws ERR_ZMTP_PROTOCOL on a malformed list. */
export function decodeMetadata(data: Buffer): Metadata {
  const props: Metadata = new Map()
  let i = 0
  while (i < data.length) {
    const nameLen = data[i]!
    if (nameLen === 0 || i + 1 + nameLen + 4 > data.length) throw malformed("truncated or empty property name")
    const name = data.toString("latin1", i + 1, i + 1 + nameLen)
    i += 1 + nameLen
    const valueLen = data.readUInt32BE(i)
    i += 4
    if (i + valueLen > data.length) throw malformed(`property ${name} claims ${valueLen} bytes past the end`)
    props.set(name, data.subarray(i, i + valueLen))
    i += valueLen
  }
  return props
}

function malformed(detail: string): ZmeshError {
  return new ZmeshError("ERR_ZMTP_PROTOCOL", `malformed metadata: ${detail}`)
}
