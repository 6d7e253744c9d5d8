/** Majordomo (18/MDP, MDP/0.2, with 8/MMI): broker, worker and client. */
export { MajordomoBroker, type MajordomoBrokerOptions, type MajordomoBrokerEvent } from "./broker.js"
export { MajordomoWorker, type MajordomoWorkerOptions, type MajordomoWorkerEvent, type MajordomoHandler } from "./worker.js"
export {
  MajordomoClient,
  type MajordomoClientOptions,
  type MajordomoClientEvent,
  type MajordomoRequestOptions,
} from "./client.js"
export { MdpHeader, MdpClientCommand, MdpWorkerCommand, Mmi } from "./protocol.js"
