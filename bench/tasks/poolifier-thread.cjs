// poolifier's thread worker: the shared tasks, by name.
const { ThreadWorker } = require('poolifier')

module.exports = new ThreadWorker(require('./tasks.cjs'))
