// The soak benchmark's task: returns its id, except when told to crash its worker or hang.
// Also a PoolHandler target: `setup` builds a state the task checks.
function run(job, state) {
  if (job.crash) process.exit(1)
  if (job.hang) for (;;) {}
  if (state !== undefined && state.ready !== true) throw new Error('setup did not run')
  return job.id
}
module.exports = run
module.exports.setup = () => ({ ready: true })
