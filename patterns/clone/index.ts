/** Clone (the ZeroMQ guide, chapter 5): reliable key-value state distribution. */
export { CloneServer, type CloneEndpoints, type CloneServerOptions, type CloneServerEvent, type CloneSetOptions } from "./server.js"
export { CloneClient, type CloneClientOptions, type CloneClientEvent } from "./client.js"
export { CloneKey, type CloneEntry } from "./kvmsg.js"
