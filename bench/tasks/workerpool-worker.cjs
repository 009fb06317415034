// workerpool's worker script (thread and process modes): registers the shared tasks by name.
const workerpool = require('workerpool')

workerpool.worker(require('./tasks.cjs'))
