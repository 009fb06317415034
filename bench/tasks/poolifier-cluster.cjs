// poolifier's cluster (process) worker: the shared tasks, by name.
const { ClusterWorker } = require('poolifier')

module.exports = new ClusterWorker(require('./tasks.cjs'))
