// Recipe: an RBM's log-likelihood on my binary data (docs/recipes/rbm-loglik.md).
// Run: npx tsx docs/recipes/rbm-loglik.ts train.csv test.csv   (0/1 values, one row per example)
import { key, rbm, aisLogZ, averageLogLikelihood } from 'ebm-ts';
import { loadCsv } from 'ebm-ts/node';

/** Trains a Bernoulli RBM on `train` and reports the average test log-likelihood in nats per example. */
export async function rbmLogLikelihood(trainCsv: string, testCsv: string, nHidden = 12) {
  const train = (await loadCsv(trainCsv)).data;            // [n, nVisible], entries 0/1
  const test = (await loadCsv(testCsv)).data;
  const model = new rbm.BernoulliRBM({ nHidden, key: 0 }).fit(train, { epochs: 100, batchSize: 10, lr: 0.1, momentum: 0.5, k: 1 });
  const params = model.params!;
  // log Z: exact by enumerating 2^min(nVisible, nHidden) states when that is small, else annealed importance sampling.
  const small = Math.min(train.shape[1], nHidden) <= 20;
  const logZ = small ? rbm.exactLogZ(params) : aisLogZ(params, key(1), { data: train, runs: 100 }).logZ;
  const ll = averageLogLikelihood(params, test, logZ, { logZMethod: small ? 'exact' : 'ais' });
  return { logZ, avgLogLik: ll.mean, stderr: ll.stderr, method: small ? 'exact' : 'ais' };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [train, test] = process.argv.slice(2);
  const r = await rbmLogLikelihood(train, test);
  console.log(`test log-likelihood ${r.avgLogLik.toFixed(3)} ± ${r.stderr.toFixed(3)} nats (log Z ${r.logZ.toFixed(3)}, ${r.method})`);
}
