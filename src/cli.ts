#!/usr/bin/env node
/** The `zmesh` command: `zmesh keygen` prints a new CURVE key pair; `zmesh relay` runs a relay node. */
import { curveKeyPair } from "./keys.js"

const usage = `usage: zmesh <command>

commands:
  keygen    print a new CURVE key pair (Z85, 40 characters each)
  relay     run a durable relay node (zmesh relay --help for its options)`

async function main(args: readonly string[]): Promise<number> {
  switch (args[0]) {
    case "keygen": {
      const { publicKey, secretKey } = curveKeyPair()
      process.stdout.write(`public: ${publicKey}\nsecret: ${secretKey}\n`)
      return 0
    }
    case "relay": {
      // Loaded only for this command: keygen stays free of the relay and its dependencies.
      const { runRelay } = await import("./relay/cli-relay.js")
      return runRelay(args.slice(1))
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${usage}\n`)
      return args[0] === undefined ? 1 : 0
    default:
      process.stderr.write(`zmesh: unknown command ${JSON.stringify(args[0])}\n${usage}\n`)
      return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
