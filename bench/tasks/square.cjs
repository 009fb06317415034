// The tiny task of the throughput benchmark, shared by every pool.
module.exports = (x) => x * x
