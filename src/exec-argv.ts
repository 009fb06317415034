// The Node options a child process inherits from this one when the user gives none. A child runs
// qdmp's own entry script, so options that choose what a process runs would make it run the
// user's program instead: `node -e "<code that starts a ProcessPoolHandler>"` then started
// children that each ran the code and started children of their own, without end. Inspector
// options would have every child fight for one port, or wait for a debugger (--inspect-brk).
// Loaders (--import, --require, --loader), conditions and V8 flags are what children need, and
// are kept.

/**
 * Options left out, each with whether it takes a value: attached (`--eval=code`) or the next
 * argument, which Node never takes from something that looks like an option (`node -p
 * --stack-size=900 file.js` prints the file's result: `-p` is then a flag).
 */
const LEFT_OUT = new Map<string, boolean>([
  // What to run instead of a script file.
  ['-e', true],
  ['--eval', true],
  ['-p', true],
  ['--print', true],
  ['-pe', true],
  ['-i', false],
  ['--interactive', false],
  ['-c', false],
  ['--check', false],
  ['--input-type', true], // refused by Node beside a script file
  ['--run', true],
  // A snapshot's main function runs instead of the script.
  ['--snapshot-blob', true],
  ['--build-snapshot', false],
  ['--build-snapshot-config', true],
  // The test runner and watch mode run and restart the user's files.
  ['--test', false],
  ['--test-only', false],
  ['--test-force-exit', false],
  ['--test-update-snapshots', false],
  ['--test-reporter', true],
  ['--test-reporter-destination', true],
  ['--test-name-pattern', true],
  ['--test-skip-pattern', true],
  ['--test-shard', true],
  ['--test-concurrency', true],
  ['--test-timeout', true],
  ['--test-isolation', true],
  ['--test-global-setup', true],
  ['--test-coverage-include', true],
  ['--test-coverage-exclude', true],
  ['--test-coverage-branches', true],
  ['--test-coverage-functions', true],
  ['--test-coverage-lines', true],
  ['--watch', false],
  ['--watch-path', true],
  ['--watch-preserve-output', false],
  ['--watch-kill-signal', true],
  // One inspector port per machine; a value only ever comes attached (`--inspect=9230`).
  ['--inspect', false],
  ['--inspect-brk', false],
  ['--inspect-brk-node', false],
  ['--inspect-wait', false],
  ['--inspect-port', true],
  ['--debug-port', true],
  ['--inspect-publish-uid', true],
])

/** `execArgv` without the options a worker process must not inherit (see above). */
export function inheritableExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = []
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!
    const eq = arg.indexOf('=')
    // Node reads `_` in an option's name as `-` (`--inspect_brk`).
    const name = (arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg).replaceAll('_', '-')
    const takesValue = LEFT_OUT.get(name)
    if (takesValue === undefined) kept.push(arg)
    else if (takesValue && eq < 0 && i + 1 < execArgv.length && !execArgv[i + 1]!.startsWith('-')) i++ // its value: skip it too
  }
  return kept
}

/**
 * `NODE_OPTIONS` without the same options (a child inherits the environment too), or the value
 * itself when it has none of them. Words are split as Node 20 splits them: on spaces only (a tab
 * is part of a word), with double quotes around a word that holds spaces, `\` escaping the next
 * character inside them, and no word made of nothing (`""`).
 */
export function inheritableNodeOptions(value: string): string {
  const words = splitNodeOptions(value)
  const kept = inheritableExecArgv(words)
  if (kept.length === words.length) return value
  return kept.map((word) => (/[ "\\]/.test(word) ? `"${word.replace(/["\\]/g, '\\$&')}"` : word)).join(' ')
}

function splitNodeOptions(value: string): string[] {
  const words: string[] = []
  let word = ''
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (quoted && c === '\\' && i + 1 < value.length) word += value[++i]
    else if (c === '"') quoted = !quoted
    else if (!quoted && c === ' ') {
      if (word !== '') words.push(word)
      word = ''
    } else word += c
  }
  if (word !== '') words.push(word)
  return words
}
