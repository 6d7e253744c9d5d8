/** Endpoint strings as libzmq takes them: tcp://host:port, ipc://path, inproc://name. */
import { ZmeshError } from "../errors.js"

export type Endpoint =
  | { readonly transport: "tcp"; readonly host: string; readonly port: number; readonly address: string }
  | { readonly transport: "ipc"; readonly path: string; readonly address: string }
  | { readonly transport: "inproc"; readonly name: string; readonly address: string }

/**
 * Parses an endpoint. For binding, `tcp://*:port` means every IPv4 interface
 * and port `*` (or 0) an ephemeral port; `ipc://*` is not supported yet.
 * IPv6 hosts go in brackets: `tcp://[::1]:5555`.
 */
export function parseEndpoint(address: string, forBind: boolean): Endpoint {
  const sep = address.indexOf("://")
  if (sep < 0) throw invalid(address, "expected transport://address")
  const transport = address.slice(0, sep)
  const rest = address.slice(sep + 3)
  switch (transport) {
    case "tcp":
      return parseTcp(address, rest, forBind)
    case "ipc":
      if (rest.length === 0) throw invalid(address, "empty ipc path")
      if (rest === "*") throw invalid(address, "ipc://* is not supported; name a path")
      return { transport, path: rest.startsWith("@") ? `\0${rest.slice(1)}` : rest, address }
    case "inproc":
      if (rest.length === 0) throw invalid(address, "empty inproc name")
      return { transport, name: rest, address }
    default:
      throw new ZmeshError("EPROTONOSUPPORT", `unsupported transport ${JSON.stringify(transport)} in ${address}`, {
        address,
      })
  }
}

function parseTcp(address: string, rest: string, forBind: boolean): Endpoint {
  // libzmq's "source;destination" form is not supported.
  if (rest.includes(";")) throw invalid(address, "source addresses (src;dst) are not supported")
  const colon = rest.lastIndexOf(":")
  if (colon < 0) throw invalid(address, "missing port")
  let host = rest.slice(0, colon)
  const portText = rest.slice(colon + 1)
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1)
  if (host.length === 0) throw invalid(address, "missing host")
  let port: number
  if (portText === "*" || portText === "0") {
    if (!forBind) throw invalid(address, "a connect needs a port number")
    port = 0
  } else {
    if (!/^\d{1,5}$/.test(portText)) throw invalid(address, `bad port ${JSON.stringify(portText)}`)
    port = Number(portText)
    if (port > 65535) throw invalid(address, `port ${port} out of range`)
  }
  if (host === "*") {
    if (!forBind) throw invalid(address, "a connect needs a host")
    host = "0.0.0.0"
  }
  return { transport: "tcp", host, port, address }
}

/** The endpoint string for a bound TCP address, as libzmq's ZMQ_LAST_ENDPOINT shows it. */
export function formatTcp(host: string, port: number): string {
  return host.includes(":") ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`
}

function invalid(address: string, why: string): ZmeshError {
  return new ZmeshError("EINVAL", `invalid endpoint ${JSON.stringify(address)}: ${why}`, { address })
}
