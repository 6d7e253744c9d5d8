/**
 * Z85 (RFC 32): 4 bytes as 5 printable characters, used for CURVE keys.
 *
 * @example
 * ```ts
 * z85Encode(Buffer.from("864FD26FB559F75B", "hex")) // "HelloWorld"
 * ```
 */
import { ZmeshError } from "../errors.js"

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
const DECODE = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i

/** Encodes bytes whose length is a multiple of 4. */
export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new ZmeshError("EINVAL", `Z85 encodes multiples of 4 bytes, not ${data.length}`)
  let out = ""
  for (let i = 0; i < data.length; i += 4) {
    let value = ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0
    const chunk = new Array<string>(5)
    for (let j = 4; j >= 0; j--) {
      chunk[j] = ALPHABET[value % 85]!
      value = Math.floor(value / 85)
    }
    out += chunk.join("")
  }
  return out
}

/** Decodes a string whose length is a multiple of 5. */
export function z85Decode(text: string): Buffer {
  if (text.length % 5 !== 0) throw new ZmeshError("EINVAL", `Z85 decodes multiples of 5 characters, not ${text.length}`)
  const out = Buffer.allocUnsafe((text.length / 5) * 4)
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j)
      const digit = code < 128 ? DECODE[code]! : -1
      if (digit < 0) throw new ZmeshError("EINVAL", `invalid Z85 character ${JSON.stringify(text[i + j])} at ${i + j}`)
      value = value * 85 + digit
    }
    if (value > 0xffffffff) throw new ZmeshError("EINVAL", `invalid Z85 group ${JSON.stringify(text.slice(i, i + 5))}`)
    out.writeUInt32BE(value, o)
  }
  return out
}
