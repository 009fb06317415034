// The `qdmp` command line: what it accepts, checked before anything starts, so that a mistake is
// reported at once with exit code 2 and the usage.

import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'

/** Everything `qdmp run` needs, checked. */
export interface RunCommand {
  kind: 'run'
  module: string
  exportName: string | undefined
  workers: number
  pool: 'thread' | 'process'
  input: string
  output: string
  errors: string | undefined
  timeout: number | undefined
  retries: number
  window: number | undefined
  ordered: boolean
  progress: boolean | undefined
}

export type Command = RunCommand | { kind: 'help' } | { kind: 'version' }

/** A mistake on the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const USAGE = `Usage: qdmp run <module> [options]

Runs the function that <module> exports on every line of the input, on every core: each line is
one JSON value, passed as the function's argument; each result is written as one JSON line.

Options:
  --export <name>       the named export to run (default: the default export)
  --workers <n>         how many workers (default: one per core, ${availableParallelism()} here)
  --pool <kind>         thread (default) or process: each worker in its own child process
  --input <file|->      where the JSON lines come from (default: - for stdin)
  --output <file|->     where results go, one JSON line each (default: - for stdout)
  --errors <file>       where failures go, one JSON line each with the line number, the
                        arguments and the error (default: stderr)
  --timeout <ms>        a task running longer is stopped and fails (default: no limit)
  --retries <n>         run a failed task again up to n times (default: 0)
  --window <n>          at most n lines read ahead of the output (default: 16 per worker)
  --ordered             write results in input order (default: as they finish)
  --progress            show progress on stderr even when it is not a terminal
  --no-progress         never show progress
  -h, --help            show this help
  -v, --version         show the version

Exit codes: 0 all lines succeeded, 1 some failed, 2 bad usage or a module that cannot run,
130 interrupted (Ctrl-C: running tasks finish; a second Ctrl-C stops them at once).

Example:
  qdmp run ./tokenize.mjs --input corpus.jsonl --output tokens.jsonl --ordered`

const OPTIONS = {
  export: { type: 'string' },
  workers: { type: 'string' },
  pool: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  errors: { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  window: { type: 'string' },
  ordered: { type: 'boolean' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

function integer(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} must be a whole number of at least ${min}, got ${JSON.stringify(text)}`)
  }
  return value
}

/** Parses `argv` (the arguments after `qdmp`). Throws a {@link UsageError} on any mistake. */
export function parseCommand(argv: string[]): Command {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help === true) return { kind: 'help' }
  if (values.version === true) return { kind: 'version' }
  const [command, module, ...extra] = positionals
  if (command === undefined) throw new UsageError('no command given: the command is `qdmp run <module>`')
  if (command !== 'run') throw new UsageError(`unknown command ${JSON.stringify(command)}: the command is \`qdmp run <module>\``)
  if (module === undefined) throw new UsageError('`qdmp run` needs the module to run, e.g. `qdmp run ./task.mjs`')
  if (extra.length > 0) throw new UsageError(`unexpected arguments after the module: ${extra.map((a) => JSON.stringify(a)).join(' ')}`)
  const pool = values.pool ?? 'thread'
  if (pool !== 'thread' && pool !== 'process') throw new UsageError(`--pool must be thread or process, got ${JSON.stringify(pool)}`)
  if (values.progress === true && values['no-progress'] === true) throw new UsageError('--progress and --no-progress contradict each other')
  if (values.export !== undefined && values.export.length === 0) throw new UsageError('--export needs the name of an export')
  return {
    kind: 'run',
    module,
    exportName: values.export,
    workers: integer('workers', values.workers, 1) ?? availableParallelism(),
    pool,
    input: values.input ?? '-',
    output: values.output ?? '-',
    errors: values.errors,
    timeout: integer('timeout', values.timeout, 1),
    retries: integer('retries', values.retries, 0) ?? 0,
    window: integer('window', values.window, 1),
    ordered: values.ordered === true,
    progress: values.progress === true ? true : values['no-progress'] === true ? false : undefined,
  }
}
