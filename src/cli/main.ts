#!/usr/bin/env node
// The `qdmp` executable: parses the command line, runs, and exits with the run's code.

import { parseCommand, USAGE, UsageError } from './args'
import { EXIT, FatalError, runCommand } from './run'

function version(): string {
  return (require('../../package.json') as { version: string }).version
}

async function main(argv: string[]): Promise<number> {
  let command
  try {
    command = parseCommand(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`qdmp: ${error.message}\n\n${USAGE}\n`)
    return EXIT.usage
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return EXIT.ok
  }
  if (command.kind === 'version') {
    process.stdout.write(`${version()}\n`)
    return EXIT.ok
  }
  try {
    return await runCommand(command, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      onInterrupt(handler) {
        process.on('SIGINT', handler)
        process.on('SIGTERM', handler)
        return () => {
          process.off('SIGINT', handler)
          process.off('SIGTERM', handler)
        }
      },
    })
  } catch (error) {
    if (!(error instanceof FatalError)) throw error
    process.stderr.write(`qdmp: ${error.message}\n`)
    return EXIT.usage
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`qdmp: unexpected error (please report it): ${(error as Error)?.stack ?? String(error)}\n`)
    process.exitCode = 1
  },
)
