/** The relay suite on the embedded log, with small segments so that rolling and deletion happen too. */
import { LogStore } from "../../src/relay/index.js"
import { relaySuite } from "./suite/index.js"

relaySuite({ name: "the embedded log", make: (dir) => new LogStore({ dir, segmentSize: 64 * 1024, checkpointBytes: 128 * 1024 }) })
